import { createContext } from '@lit/context';
import type { PortalClient } from '../model/portal-client.js';

/**
 * The portal's shared state: `<siprelay-portal>` provides its
 * {@link PortalClient}, every element below consumes it
 * ({@link PortalClientController}).
 */
export const portalClientContext = createContext<PortalClient>(Symbol('siprelay-portal-client'));
