"""Local stand-in for the Firebase Realtime Database REST API, for mayaflow tests. See ../FIREBASE-SLACK.md."""
