import { ContextConsumer } from '@lit/context';
import type { ReactiveController, ReactiveControllerHost } from 'lit';
import { portalClientContext } from '../context/portal-client-context.js';
import type { PortalClient } from '../model/portal-client.js';

type Host = ReactiveControllerHost & HTMLElement;

/**
 * Gives an element the portal client from the context and re-renders it on
 * every change of the client's state, for as long as it is connected.
 *
 * @example
 * ```ts
 * class MyView extends LitElement {
 *   private readonly portal = new PortalClientController(this);
 *   render() { return html`${this.portal.client?.state}`; }
 * }
 * ```
 */
export class PortalClientController implements ReactiveController {
  private readonly consumer: ContextConsumer<typeof portalClientContext, Host> | undefined;
  private unsubscribe: (() => void) | undefined;
  private subscribed: PortalClient | undefined;

  /**
   * @param own the client of the element that provides the context: a
   *   provider does not answer its own host's requests, so the root
   *   passes its client here instead of consuming it.
   */
  constructor(
    private readonly host: Host,
    private readonly own?: () => PortalClient | undefined,
  ) {
    this.consumer = own
      ? undefined
      : new ContextConsumer(host, {
          context: portalClientContext,
          subscribe: true,
          callback: () => this.follow(),
        });
    host.addController(this);
  }

  /** The portal client, once the context has provided it. */
  get client(): PortalClient | undefined {
    return this.own ? this.own() : this.consumer?.value;
  }

  hostConnected(): void {
    this.follow();
  }

  hostDisconnected(): void {
    this.unsubscribe?.();
    this.unsubscribe = undefined;
    this.subscribed = undefined;
  }

  /** Follows the client now (the root calls this once it has made its client). */
  follow(): void {
    const client = this.client;
    if (client === this.subscribed) return;
    this.unsubscribe?.();
    this.subscribed = client;
    this.unsubscribe = client?.subscribe(() => this.host.requestUpdate());
    this.host.requestUpdate();
  }
}
