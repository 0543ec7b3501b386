"""The web page: sign in with a workspace token, browse databases, watch cells fill."""
