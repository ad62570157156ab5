"""Live meetings: the /ws wire protocol, who is in each live meeting, what they
publish and receive, and recording control."""
