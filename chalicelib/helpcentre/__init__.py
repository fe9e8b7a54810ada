"""The help centre: server-rendered, mobile-first pages over the knowledge base and the contact directory."""
