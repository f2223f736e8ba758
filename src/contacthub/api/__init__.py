"""The HTTP edge: FastAPI routes, the error envelope, and request plumbing."""
