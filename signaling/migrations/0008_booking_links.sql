-- A booking is linked only to a meeting its author may change, and a meeting is held in
-- a room only by a booking covering its whole time. Bookings linked before that rule
-- may break it; a later edit of the meeting would then move such a booking onto the
-- meeting's time. Each one keeps its room, time and title but loses the link, with an
-- entry 'booking.unlink' in the audit log. "May change" is the rule of
-- signaling/schedule/access.py (may_manage) on the author's role and the leaders
-- assigned to them today; a deactivated author's link is kept, since deactivation
-- says nothing about the link. Times are fixed-width UTC text, so text order is time
-- order.
CREATE TEMP TABLE booking_links AS
SELECT b.id AS id, b.room_id AS room_id, b.meeting_id AS meeting_id,
       b.booked_by AS booked_by,
       COALESCE(a.kind = 'staff'
                AND a.role IN ('admin', 'secretary', 'official', 'clerk')
                AND (a.role IN ('admin', 'clerk')
                     OR a.username = m.organizer
                     OR (a.role = 'secretary' AND m.on_behalf_of IS NOT NULL
                         AND EXISTS (SELECT 1 FROM secretary_assignments AS s
                                     WHERE s.secretary = a.username
                                       AND s.leader = m.on_behalf_of))), 0) AS may_change,
       (b.start_at <= m.start_at AND b.end_at >= m.end_at) AS covers
FROM room_bookings AS b
JOIN meetings AS m ON m.id = b.meeting_id
LEFT JOIN accounts AS a ON a.username = b.booked_by;

INSERT INTO audit_log (at, actor, action, target, before_json, after_json)
SELECT strftime('%Y-%m-%dT%H:%M:%f', 'now') || '000+00:00', 'migration', 'booking.unlink',
       'booking ' || id,
       json_object('booked_by', booked_by, 'meeting_id', meeting_id,
                   'reason', CASE WHEN NOT may_change THEN 'author_may_not_change_meeting'
                                  ELSE 'does_not_cover_meeting' END,
                   'room_id', room_id),
       json_object('booked_by', booked_by, 'meeting_id', NULL, 'room_id', room_id)
FROM booking_links WHERE NOT (may_change AND covers) ORDER BY id;

UPDATE room_bookings SET meeting_id = NULL
WHERE id IN (SELECT id FROM booking_links WHERE NOT (may_change AND covers));

DROP TABLE booking_links;
