"""What the HTTP edges (the API and the dashboard) share: the app context and its one
transaction scope, the middleware every request passes (proxies, request id, observers), the
access log, and the JSON error envelope."""
