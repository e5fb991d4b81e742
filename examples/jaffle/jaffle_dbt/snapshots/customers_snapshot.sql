{% snapshot customers_snapshot %}
{{ config(unique_key='customer_id', strategy='check', check_cols='all', target_schema='snapshots') }}
-- The customers' names as they change over time.
select customer_id, first_name, last_name from {{ ref('stg_customers') }}
{% endsnapshot %}
