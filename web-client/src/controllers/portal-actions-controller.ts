import type { ReactiveController, ReactiveControllerHost } from 'lit';
import type { PortalClient } from '../model/portal-client.js';
import {
  CancelOpeningEvent,
  ChangeServiceEvent,
  DismissEvent,
  HangUpEvent,
  OpenServiceEvent,
  ReloadCatalogueEvent,
  SignInEvent,
  SignOutEvent,
  TransferEvent,
} from '../components/portal-events.js';

type Host = ReactiveControllerHost & HTMLElement;

/**
 * Turns the events the portal's elements dispatch into calls of the portal
 * client, for as long as its host (the portal root) is connected: the one
 * place where a click becomes SIP.
 *
 * @example
 * ```ts
 * class SiprelayPortal extends LitElement {
 *   private readonly actions = new PortalActionsController(this, () => this.client);
 * }
 * ```
 */
export class PortalActionsController implements ReactiveController {
  private readonly handlers: Array<[string, (e: Event) => void]>;

  constructor(
    private readonly host: Host,
    client: () => PortalClient,
  ) {
    this.handlers = [
      [SignInEvent.type, (e) => void client().signIn((e as SignInEvent).username, (e as SignInEvent).password)],
      [SignOutEvent.type, () => void client().signOut()],
      [OpenServiceEvent.type, (e) => {
        const o = e as OpenServiceEvent;
        client().open(o.service, o.details, { compare: o.compare, clickedAt: o.clickedAt });
      }],
      [HangUpEvent.type, (e) => void client().hangUp((e as HangUpEvent).key)],
      [ChangeServiceEvent.type, (e) => {
        const c = e as ChangeServiceEvent;
        void client().change(c.key, c.details, c.method);
      }],
      [TransferEvent.type, (e) => {
        const t = e as TransferEvent;
        client().transfer(t.key, t.service, t.details, t.keepOpen);
      }],
      [DismissEvent.type, (e) => {
        const key = (e as DismissEvent).key;
        client().dismiss(key);
        client().cancelOpening(key);
      }],
      [CancelOpeningEvent.type, (e) => client().cancelOpening((e as CancelOpeningEvent).key)],
      [ReloadCatalogueEvent.type, () => void client().loadCatalogue()],
    ];
    host.addController(this);
  }

  hostConnected(): void {
    for (const [type, handler] of this.handlers) this.host.addEventListener(type, handler);
  }

  hostDisconnected(): void {
    for (const [type, handler] of this.handlers) this.host.removeEventListener(type, handler);
  }
}
