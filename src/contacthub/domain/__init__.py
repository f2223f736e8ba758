"""Domain rules: plain functions over plain values, with no HTTP and no SQL."""
