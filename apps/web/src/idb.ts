/**
 * A small IndexedDB store of safetensors bytes by name (one database, one object store).
 * Plain IndexedDB: the app needs get and put, which do not justify a dependency.
 */
const DB_NAME = 'convkit-web';
const STORE = 'weights';

function open(): Promise<IDBDatabase> {
  return new Promise((resolve, reject) => {
    const request = indexedDB.open(DB_NAME, 1);
    request.onupgradeneeded = () => request.result.createObjectStore(STORE);
    request.onsuccess = () => resolve(request.result);
    request.onerror = () =>
      reject(new Error(`IndexedDB: cannot open ${DB_NAME}: ${request.error?.message}`));
  });
}

async function run<T>(
  mode: IDBTransactionMode,
  op: (store: IDBObjectStore) => IDBRequest,
): Promise<T> {
  const db = await open();
  try {
    return await new Promise<T>((resolve, reject) => {
      const tx = db.transaction(STORE, mode);
      const request = op(tx.objectStore(STORE));
      tx.oncomplete = () => resolve(request.result as T);
      tx.onerror = () =>
        reject(new Error(`IndexedDB: ${tx.error?.message ?? 'transaction failed'}`));
      tx.onabort = () =>
        reject(new Error(`IndexedDB: ${tx.error?.message ?? 'transaction aborted'}`));
    });
  } finally {
    db.close();
  }
}

export function idbPut(name: string, bytes: Uint8Array): Promise<void> {
  return run('readwrite', (store) => store.put(bytes, name));
}

export async function idbGet(name: string): Promise<Uint8Array | undefined> {
  const value = await run<unknown>('readonly', (store) => store.get(name));
  return value instanceof Uint8Array ? value : undefined;
}
