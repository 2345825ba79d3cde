// Rows of the review table as the server sorts and filters them, fetched in blocks of BLOCK
// rows and kept by offset. Each sort or filter starts a new generation: every kept block is
// dropped, and an answer that was asked for by an earlier generation is ignored when it arrives.

import { get } from "./api.js";

export const BLOCK = 200; // rows per request (the server allows up to 500)
const KEEP = 50; // blocks kept (10,000 rows); the least recently used goes first

export class ReviewPages {
  // onMoved: the server found rows out of place since they were read (`load`); the kept blocks
  // were dropped and the rows shown must be read again.
  constructor({ onLoad, onError, onMoved = onLoad }) {
    this.onLoad = onLoad;
    this.onError = onError;
    this.onMoved = onMoved;
    this.query = "";
    this.generation = 0;
    this.blocks = new Map(); // block number -> rows; insertion order is recency of use
    this.pending = new Set(); // block numbers on their way
    this.total = null; // rows that pass the filters, once the server said
    this.totalKey = ""; // when the server counted it (it trusts the total back only then)
    this.all = null; // images in the queue
  }

  // A new order or filter (`query`: the URL parameters that state it).
  reset(query) {
    this.query = query;
    this.generation += 1;
    this.blocks.clear();
    this.pending.clear();
    this.total = null;
    this.totalKey = "";
  }

  // The row at `index` in the current order, if its block is here.
  row(index) {
    return this.blocks.get(Math.floor(index / BLOCK))?.[index % BLOCK];
  }

  // Asks for the blocks holding rows start..end-1 that are neither kept nor on their way.
  want(start, end) {
    for (let block = Math.floor(start / BLOCK); block * BLOCK < end; block += 1) {
      const rows = this.blocks.get(block);
      if (rows) {
        this.blocks.delete(block);
        this.blocks.set(block, rows);
      } else if (!this.pending.has(block)) {
        this.load(block).catch((error) => this.onError(error));
      }
    }
  }

  // The request for one block. When the block before it is here, its last row's position is
  // the keyset cursor (`after`): the server starts right after that row instead of stepping over
  // every row before the block. The row's `cursor` (what set its place in the order when it was
  // read) goes with it as `after_key`: if the row has moved since (relabelled in another tab, by
  // a teammate, its time grown), the server finds the block by its offset instead and says so
  // (`moved`). The filtered total, once known, is passed back with its `total_key` so that it
  // is not counted again for every block while nothing has changed.
  params(block) {
    let params = `offset=${block * BLOCK}&limit=${BLOCK}&${this.query}`;
    const before = this.blocks.get(block - 1);
    if (before && before.length === BLOCK) {
      const last = before[BLOCK - 1];
      params += `&after=${last.position}&after_key=${encodeURIComponent(last.cursor)}`;
    }
    if (this.total !== null) params += `&total=${this.total}&total_key=${encodeURIComponent(this.totalKey)}`;
    return params;
  }

  // Fetches one block; true if it was kept, false if a newer generation made it stale.
  async load(block) {
    const generation = this.generation;
    this.pending.add(block);
    let page;
    try {
      page = await get(`/api/review?${this.params(block)}`);
    } catch (error) {
      if (generation !== this.generation) return false; // nobody waits for it any more
      throw error;
    } finally {
      if (generation === this.generation) this.pending.delete(block);
    }
    if (generation !== this.generation) return false;
    if (page.moved) {
      // The row before this block had moved in the order or left the filter since it was read:
      // the server found the block by its offset in the order as it is now, and the rows kept
      // from before may be out of place (the row itself, those it passed). They are dropped, as
      // are the answers on their way (a new generation), and the table asks again for its rows.
      this.generation += 1;
      this.blocks.clear();
      this.pending.clear();
    }
    this.blocks.set(block, page.rows);
    while (this.blocks.size > KEEP) this.blocks.delete(this.blocks.keys().next().value);
    this.total = page.total;
    this.totalKey = page.total_key ?? "";
    this.all = page.all;
    if (page.moved) this.onMoved();
    else this.onLoad();
    return true;
  }
}
