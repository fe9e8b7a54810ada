"""Chinese self-service knowledge base: analyser, index build, search service, feedback store."""
