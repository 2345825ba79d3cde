// Rows of the review table as the server sorts and filters them, fetched in blocks of BLOCK
// rows and kept by offset. Each sort or filter starts a new generation: every kept block is
// dropped, and an answer that was asked for by an earlier generation is ignored when it arrives.

import { get } from "./api.js";

export const BLOCK = 200; // rows per request (the server allows up to 500)
const KEEP = 50; // blocks kept (10,000 rows); the least recently used goes first

export class ReviewPages {
  constructor({ onLoad, onError }) {
    this.onLoad = onLoad;
    this.onError = onError;
    this.query = "";
    this.generation = 0;
    this.blocks = new Map(); // block number -> rows; insertion order is recency of use
    this.pending = new Set(); // block numbers on their way
    this.total = null; // rows that pass the filters, once the server said
    this.all = null; // images in the queue
  }

  // A new order or filter (`query`: the URL parameters that state it).
  reset(query) {
    this.query = query;
    this.generation += 1;
    this.blocks.clear();
    this.pending.clear();
    this.total = null;
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
  // every row before the block. The filtered total, once known, is passed back so that it is
  // not counted again for every block of the same order and filters.
  params(block) {
    let params = `offset=${block * BLOCK}&limit=${BLOCK}&${this.query}`;
    const before = this.blocks.get(block - 1);
    if (before && before.length === BLOCK) params += `&after=${before[BLOCK - 1].position}`;
    if (this.total !== null) params += `&total=${this.total}`;
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
    this.blocks.set(block, page.rows);
    while (this.blocks.size > KEEP) this.blocks.delete(this.blocks.keys().next().value);
    this.total = page.total;
    this.all = page.all;
    this.onLoad();
    return true;
  }
}
