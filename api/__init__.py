"""The REST API (``/api/v1/``): the same services and querysets as the pages, reached with
personal tokens."""
