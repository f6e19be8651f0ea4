"""The API's views: thin, over :mod:`api.data` and the services the pages use."""
