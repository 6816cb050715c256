import { isStoreError } from '../../../server/store/store-error.js';

/** The `code` of the StoreError that `p` rejects with, or 'no error'. Anything else is rethrown. */
export async function storeErrorCode(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e) {
    if (isStoreError(e)) return e.code;
    throw e;
  }
  return 'no error';
}
