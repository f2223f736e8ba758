"""The schema's revisions, oldest first; each depends on nothing that can change under it."""
