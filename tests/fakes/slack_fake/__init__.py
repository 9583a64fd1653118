"""Local stand-in for Slack incoming webhooks (a recorder), for mayaflow tests. See ../FIREBASE-SLACK.md."""
