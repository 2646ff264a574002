// A lane's track: one cell per offset, the same offsets in every lane, column under column.
import { el, setAttr, setClass, setText } from "./dom.js";

/** The sign a cell of a kind carries besides its colour: an offset another leader wrote otherwise. */
const SIGNS = { diverged: "≠" };

/** The narrowest a cell may be, in the font size of the element the lanes are sized by. */
const CELL_EMS = 2.1;
const MIN_CELLS = 6;

/** How many cells fit in `track` now, from MIN_CELLS to `max`: the same for every lane, so their columns line up. */
export function cellsThatFit(track, { sizedBy, max }) {
  const em = parseFloat(getComputedStyle(sizedBy).fontSize);
  return Math.max(MIN_CELLS, Math.min(max, Math.floor(track.node.clientWidth / (CELL_EMS * em))));
}

/** A track of `cells` cells; `draw` gives each its offset's kind, or hides a cell past the head. */
export function makeTrack() {
  const node = el("div", { class: "track" });
  return {
    node,
    draw(from, count, head, kindOf, titleOf) {
      while (node.children.length < count) node.append(el("span", { class: "cell" }));
      while (node.children.length > count) node.lastElementChild.remove();
      for (let i = 0; i < count; i++) {
        const cell = node.children[i];
        const offset = from + i;
        const kind = offset < head ? kindOf(offset) : "future";
        setClass(cell, `cell ${kind}`);
        setText(cell, offset < head ? `${offset}${SIGNS[kind] ?? ""}` : "");
        setAttr(cell, "title", offset < head ? titleOf(offset, kind) : null);
      }
    },
  };
}
