"""The TeleCMI API (v2/user/*, v3/contact/*) and the operations endpoints: routes, the body
reader, idempotency keys, the OpenAPI description and its /docs page."""
