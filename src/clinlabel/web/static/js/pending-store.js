// Label changes the server has not acknowledged yet, kept in this browser (IndexedDB) so that a
// reload, a closed tab or a server restart loses none of them. Each is removed once the server
// has it (or refused it, which the page reports as "not saved"). One record per image and frame,
// and per region: the newest change. The server's save of an identical label is idempotent, so sending a change
// again after a reload (it may have arrived just before) makes no second audit event. A label
// change carries its own random key (`changeKey`, kept in its record): in a reading study the
// server answers the very change that gave a sealed first read, sent again, as saved, where any
// other attempt on that read is refused as final. Records belong to one project and one
// annotator; others in the same browser are left alone.

const DB_NAME = "clinlabel";
const STORE = "pending-labels";

function done(request) {
  return new Promise((resolve, reject) => {
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
}

function openDb() {
  const request = indexedDB.open(DB_NAME, 1);
  request.onupgradeneeded = () => request.result.createObjectStore(STORE, { keyPath: "key" });
  return done(request);
}

// A new label change's key: 128 random bits, drawn in this browser and sent with the change
// every time it is sent. Not a secret from its reader, a name of what they sent: the server
// answers it only with what that change was (`LabellingSession._resent_sealed`).
export function changeKey() {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (byte) => byte.toString(16).padStart(2, "0")).join("");
}

export class PendingStore {
  constructor(db, owner) {
    this.db = db; // null: no IndexedDB here (changes then live only as long as the page)
    this.owner = owner;
    this.count = 0;
    this.refused = false;
    this.unsettled = 0; // writes the browser has not finished (committed or refused) yet
    this.onChange = null; // called when the last unfinished write finishes
  }

  // `owner`: the project folder and the annotator the changes belong to.
  static async open(owner) {
    try {
      return new PendingStore(await openDb(), owner);
    } catch {
      return new PendingStore(null, owner);
    }
  }

  // False without IndexedDB, or once the browser refused to store a change (a full disk, a
  // quota): the save line then says to keep the page open instead of "kept in this browser".
  get available() {
    return this.db !== null && !this.refused;
  }

  // True once every change handed to keep() is written to the browser's disk: until then a
  // closed tab or a reload may still lose the newest one, and the save line says so.
  get stored() {
    return this.available && this.unsettled === 0;
  }

  // Keeps a change (`{imageId, frame, method, url, body, file}`, and `slot` for what is not an
  // image's or frame's label: a region, `region UID`); returns the record to release.
  keep(change) {
    this.count += 1;
    const slot = change.slot ?? `${change.imageId}\n${change.frame}`;
    const record = { ...change, key: `${this.owner}\n${slot}`, owner: this.owner, seq: `${Date.now()}-${Math.random()}`, at: Date.now() * 1000 + (this.count % 1000) };
    // Committed at once rather than when the page next yields, and flushed to disk
    // ("strict"): the change should survive a reload a moment later, or the battery running out.
    if (this.db) this.write((store) => store.put(record), { commit: true, durability: "strict" });
    return record;
  }

  // The server has answered for this change: forget it, unless a newer change replaced it.
  release(record) {
    if (!this.db) return;
    this.write((store) => {
      const stored = store.get(record.key);
      stored.onsuccess = () => {
        if (stored.result?.seq === record.seq) store.delete(record.key);
      };
    });
  }

  // Every change of this project and annotator still waiting, oldest first.
  async all() {
    if (!this.db) return [];
    let records;
    try {
      records = await done(this.db.transaction(STORE, "readonly").objectStore(STORE).getAll());
    } catch {
      return []; // a browser that cannot read its store: nothing to send again
    }
    return records.filter((r) => r.owner === this.owner).sort((a, b) => a.at - b.at);
  }

  write(action, { commit = false, durability = "default" } = {}) {
    // Transactions on one store run in the order they were made: a release never overtakes
    // the keep it answers. A browser that refuses to store leaves the page working as before.
    let transaction;
    try {
      transaction = this.db.transaction(STORE, "readwrite", { durability });
    } catch {
      this.refused = true; // the change is still in the page's queue, for as long as the page
      return;
    }
    this.unsettled += 1;
    const finish = () => {
      this.unsettled -= 1;
      if (!this.unsettled) this.onChange?.();
    };
    transaction.oncomplete = finish;
    transaction.onabort = () => {
      this.refused = true;
      finish();
    };
    try {
      action(transaction.objectStore(STORE));
      if (commit) transaction.commit?.();
    } catch {
      this.refused = true;
    }
  }
}
