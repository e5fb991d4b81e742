select
    p.id as payment_id,
    p.order_id,
    m.payment_method,
    -- amounts are stored in cents
    p.amount / 100.0 as amount
from {{ source('raw', 'payments') }} as p
left join {{ ref('payment_methods') }} as m using (payment_method_id)
