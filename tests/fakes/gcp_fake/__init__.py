"""Local stand-ins for Google Cloud (OAuth2, GCE metadata, GCS JSON API, BigQuery v2) for mayaflow tests."""
