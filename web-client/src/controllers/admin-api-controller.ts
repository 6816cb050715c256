import { ContextConsumer } from '@lit/context';
import type { ReactiveControllerHost } from 'lit';
import { adminApiContext } from '../context/admin-api-context.js';
import type { AdminApi } from '../model/admin-api.js';

/**
 * Gives a console element the admin API from the context (once the operator
 * typed a token) and re-renders it when the API changes.
 *
 * @example
 * ```ts
 * private readonly admin = new AdminApiController(this);
 * // this.admin.api?.liveSessions()
 * ```
 */
export class AdminApiController {
  private readonly consumer: ContextConsumer<typeof adminApiContext, ReactiveControllerHost & HTMLElement>;

  constructor(host: ReactiveControllerHost & HTMLElement, onChange?: () => void) {
    this.consumer = new ContextConsumer(host, {
      context: adminApiContext,
      subscribe: true,
      callback: () => {
        host.requestUpdate();
        onChange?.();
      },
    });
  }

  get api(): AdminApi | undefined {
    return this.consumer.value;
  }
}
