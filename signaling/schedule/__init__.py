"""The schedule: meetings and series, recurrence, who may schedule, invitations
and calendar feeds."""
