import { createContext } from '@lit/context';
import type { AdminApi } from '../model/admin-api.js';

/** The operator console's admin API (with the token typed in), provided by `<siprelay-console>`. */
export const adminApiContext = createContext<AdminApi | undefined>(Symbol('siprelay-admin-api'));
