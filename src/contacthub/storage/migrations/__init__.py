"""Alembic's environment and the schema's revisions (versions/), applied by storage/migrate.py."""
