// A small promise wrapper over IndexedDB: one database, one object store ("outbox") keyed
// by the report's idempotency key. Records hold Blobs (the photos), which IndexedDB keeps
// as they are; localStorage could not.
const DB_NAME = "cityops-app";
const STORE = "outbox";

let opening = null;

function open() {
  opening ??= new Promise((resolve, reject) => {
    const request = indexedDB.open(DB_NAME, 1);
    request.onupgradeneeded = () => request.result.createObjectStore(STORE, { keyPath: "key" });
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => { opening = null; reject(request.error); };
  });
  return opening;
}

async function run(mode, work) {
  const db = await open();
  return new Promise((resolve, reject) => {
    const tx = db.transaction(STORE, mode);
    const request = work(tx.objectStore(STORE));
    tx.oncomplete = () => resolve(request?.result);
    tx.onerror = () => reject(tx.error);
    tx.onabort = () => reject(tx.error || new Error("IndexedDB 事务中止"));
  });
}

export const store = {
  all: () => run("readonly", (s) => s.getAll()),
  get: (key) => run("readonly", (s) => s.get(key)),
  put: (record) => run("readwrite", (s) => s.put(record)),
  delete: (key) => run("readwrite", (s) => s.delete(key)),
};
