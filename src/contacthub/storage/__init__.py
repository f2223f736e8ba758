"""Storage: the schema, its migrations, and the queries, each scoped to one organization."""
