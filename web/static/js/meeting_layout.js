// Where each tile sits on the stage. Without a shared screen or a spotlight, the tiles
// shown fill the stage in the grid that makes them largest (1: one large tile, 2: side
// by side, 3-4: two by two, ...), each keeping its aspect ratio. A shared screen or a
// spotlight takes the stage; the other tiles go in a strip beside it (a wide stage) or
// below it (a tall one). Tiles are placed with absolute positions inside the stage area,
// computed again whenever the area's size or the set of tiles changes.

const GAP = 8;
const WIDE = 16 / 9;
const STRIP_MIN = { width: 168, height: 96 };
/** Narrower tiles show their badges as icons only (meeting.css). */
const SMALL_WIDTH = 300;

/** The grid that makes `count` tiles of aspect `ratio` largest in `width` × `height`. */
export function fitGrid(count, width, height, ratio = WIDE, gap = GAP) {
  let best = { cols: 1, rows: 1, w: 0, h: 0 };
  for (let cols = 1; cols <= Math.max(1, count); cols += 1) {
    const rows = Math.ceil(count / cols);
    const w = Math.min((width - (cols - 1) * gap) / cols, ((height - (rows - 1) * gap) / rows) * ratio);
    if (w > best.w) best = { cols, rows, w, h: w / ratio };
  }
  return best;
}

/** Rectangles for `count` tiles centred in `box`; on a tall box, squarer tiles may fit better. */
export function placeInBox(count, box, gap = GAP) {
  if (count === 0) return [];
  const ratios = box.w < box.h ? [WIDE, 4 / 3, 1] : [WIDE];
  let fit = null;
  for (const ratio of ratios) {
    const candidate = fitGrid(count, box.w, box.h, ratio, gap);
    if (!fit || candidate.w * candidate.h > fit.w * fit.h) fit = candidate;
  }
  const blockHeight = fit.rows * fit.h + (fit.rows - 1) * gap;
  const top = box.y + Math.max(0, (box.h - blockHeight) / 2);
  const rects = [];
  for (let i = 0; i < count; i += 1) {
    const row = Math.floor(i / fit.cols);
    const inRow = Math.min(fit.cols, count - row * fit.cols);
    const rowWidth = inRow * fit.w + (inRow - 1) * gap;
    const left = box.x + Math.max(0, (box.w - rowWidth) / 2);
    rects.push({ x: left + (i % fit.cols) * (fit.w + gap), y: top + row * (fit.h + gap), w: fit.w, h: fit.h });
  }
  return rects;
}

/** The focus box (screen or spotlight) and the strip box for the others, in `width` × `height`:
 * the focus as large as a 16:9 picture can be while the strip keeps its least size, and
 * the strip everything else (beside it on a wide stage, below it on a tall one). */
export function splitStage(width, height, gap = GAP) {
  if (width / height > WIDE) {
    const focus = Math.max(width * 0.5, Math.min(height * WIDE, width - STRIP_MIN.width - gap));
    return {
      focus: { x: 0, y: 0, w: focus, h: height },
      strip: { x: focus + gap, y: 0, w: width - focus - gap, h: height },
    };
  }
  const focus = Math.max(height * 0.3, Math.min(width / WIDE, height - STRIP_MIN.height - gap));
  return {
    focus: { x: 0, y: 0, w: width, h: focus },
    strip: { x: 0, y: focus + gap, w: width, h: height - focus - gap },
  };
}

function rank(tile) {
  if (tile.classList.contains("tile-local")) return -1;
  return Number(tile.style.order) || 0;
}

export class StageLayout {
  /** @param {{area: HTMLElement, grid: HTMLElement, screens: HTMLElement}} parts */
  constructor({ area, grid, screens }) {
    this.area = area;
    this.grid = grid;
    this.screens = screens;
    this.pending = false;
    new ResizeObserver(() => this.schedule()).observe(area);
    const watch = { childList: true, subtree: true, attributes: true, attributeFilter: ["hidden", "class"] };
    new MutationObserver(() => this.schedule()).observe(grid, watch);
    new MutationObserver(() => this.schedule()).observe(screens, watch);
  }

  schedule() {
    if (this.pending) return;
    this.pending = true;
    requestAnimationFrame(() => {
      this.pending = false;
      this.layout();
    });
  }

  layout() {
    const width = this.area.clientWidth;
    const height = this.area.clientHeight;
    if (!width || !height) return;
    const people = [...this.grid.children].filter((tile) => !tile.hidden)
      .map((tile, index) => ({ tile, index }))
      .sort((a, b) => rank(a.tile) - rank(b.tile) || a.index - b.index)
      .map((entry) => entry.tile);
    const screens = [...this.screens.children].filter((tile) => !tile.hidden);
    const focus = [...screens, ...people.filter((tile) => tile.classList.contains("tile-spotlight"))];
    const others = people.filter((tile) => !focus.includes(tile));
    this.area.dataset.layout = focus.length ? "focus" : "grid";
    if (!focus.length || !others.length) {
      this._place([...focus, ...others], { x: 0, y: 0, w: width, h: height });
      return;
    }
    const { focus: focusBox, strip } = splitStage(width, height);
    this._place(focus, focusBox);
    this._place(others, strip, "strip");
  }

  /** Put `tiles` in `box`; `place` (a data attribute, not watched) tells the CSS where. */
  _place(tiles, box, place = "main") {
    const rects = placeInBox(tiles.length, box);
    tiles.forEach((tile, i) => {
      const r = rects[i];
      tile.dataset.place = place;
      tile.dataset.size = r.w < SMALL_WIDTH ? "small" : "large";
      Object.assign(tile.style, {
        left: `${Math.round(r.x)}px`, top: `${Math.round(r.y)}px`,
        width: `${Math.floor(r.w)}px`, height: `${Math.floor(r.h)}px`,
      });
    });
  }
}
