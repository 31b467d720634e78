"""The support state machine: state, tenant context and the graph builder."""
