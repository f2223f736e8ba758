"""The composition root: the application that joins the API, the dashboard and the shared
middleware (app.py), the fast path of the TeleCMI routes (direct.py), and how
`contacthub serve` runs it (serving.py, bounded_http.py)."""
