-- No order has a negative amount. Passes on the example's data; with the var fail_check (or
-- the environment variable JAFFLE_FAIL_CHECK=1) it returns every order, so the check fails.
select order_id, amount
from {{ ref('orders') }}
where amount < 0
   or {{ var('fail_check', false) }}
   or '{{ env_var('JAFFLE_FAIL_CHECK', '0') }}' = '1'
