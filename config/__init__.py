"""Deployment configuration: the settings object and the LiteLLM routing file."""
