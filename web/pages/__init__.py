"""The HTML pages, by area: sign-in and the meeting page, accounts and administration,
the schedule, the kiosk, meeting records and the IT pages."""
