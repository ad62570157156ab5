// The boxes of the meeting page that matter, and what is wrong with them: read by
// tests/e2e/meeting_layout.py in the host's page (a function expression).
() => {
  const box = (e) => e.getBoundingClientRect();
  const shown = (e) => e && e.getClientRects().length > 0 && getComputedStyle(e).visibility !== 'hidden';
  const meet = (a, b) => a.left < b.right - 0.5 && b.left < a.right - 0.5 && a.top < b.bottom - 0.5 && b.top < a.bottom - 0.5;
  const within = (a, b) => a.left >= b.left - 0.5 && a.top >= b.top - 0.5 && a.right <= b.right + 0.5 && a.bottom <= b.bottom + 0.5;
  const view = { left: 0, top: 0, right: innerWidth, bottom: innerHeight };
  const covers = [['toolbar', document.querySelector('.toolbar')], ['bar', document.querySelector('.meeting-bar')],
    ...[...document.querySelectorAll('.side-panels > aside')].map((e) => [e.id, e])]
    .filter(([, e]) => shown(e)).map(([name, e]) => [name, box(e)]);
  const tiles = [...document.querySelectorAll('[data-testid="participant-tile"], [data-testid="screen-tile"]')].filter(shown);
  const problems = [];
  const captions = [];
  let area = 0;
  tiles.forEach((tile, i) => {
    const who = `${tile.dataset.testid}:${tile.dataset.participant}`;
    const t = box(tile);
    area += t.width * t.height;
    tiles.slice(i + 1).forEach((other) => { if (meet(t, box(other))) problems.push(`${who} overlaps ${other.dataset.participant}`); });
    const v = box(tile.querySelector('video'));
    if (!(v.width > 0 && v.height > 0)) problems.push(`${who}: video has no size`);
    const caption = tile.querySelector('.tile-caption');
    const c = box(caption);
    if (!within(c, view)) problems.push(`${who}: caption outside the window`);
    if (!within(c, t)) problems.push(`${who}: caption outside its tile`);
    for (const [name, r] of covers) if (meet(c, r)) problems.push(`${who}: caption under the ${name}`);
    const parts = [...caption.querySelectorAll('.tile-name, .tile-unit, .indicator')].filter(shown);
    const menu = tile.querySelector('[data-testid="tile-menu-button"]');
    for (const part of parts) {
      if (shown(menu) && meet(box(part), box(menu))) problems.push(`${who}: ${part.className} under the tile menu button`);
      const p = box(part);
      const hit = document.elementFromPoint(p.left + p.width / 2, p.top + p.height / 2);
      if (!hit || !(hit === part || part.contains(hit))) problems.push(`${who}: ${part.className} covered by ${hit ? hit.className || hit.tagName : 'nothing'}`);
      if (!within(p, view) || !within(p, t)) problems.push(`${who}: ${part.className} cut off`);
    }
    const badge = (testid) => shown(caption.querySelector(`[data-testid="${testid}"]`));
    captions.push({
      who, name: caption.querySelector('.tile-name').textContent,
      unit: shown(caption.querySelector('.tile-unit')) ? caption.querySelector('.tile-unit').textContent : null,
      mic: badge('mic-on-indicator') ? 'on' : badge('mic-off-indicator') ? 'off' : badge('no-mic-indicator') ? 'none' : null,
      hand: badge('hand-indicator'),
    });
  });
  const panels = [...document.querySelectorAll('.side-panels > aside')].filter(shown);
  panels.forEach((a, i) => panels.slice(i + 1).forEach((b) => { if (meet(box(a), box(b))) problems.push(`${a.id} overlaps ${b.id}`); }));
  const toolbar = box(document.querySelector('.toolbar'));
  if (!within(toolbar, view)) problems.push(`toolbar outside the window: ${JSON.stringify(toolbar)}`);
  const stage = box(document.getElementById('stage-area'));
  return {
    problems, captions, tiles: tiles.length, panels: panels.map((p) => p.id),
    panelCoversToolbar: panels.some((p) => meet(box(p), toolbar)),
    toolbarInside: within(toolbar, view),
    stageShare: stage.width * stage.height ? area / (stage.width * stage.height) : 0,
    layout: document.getElementById('stage-area').dataset.layout,
  };
}
