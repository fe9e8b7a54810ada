"""The browser front doors: sign-in and sessions (``session``, ``cognito``, ``sso``), the agent workspace
(``agent``) and the page helpers they share (``pages``)."""
