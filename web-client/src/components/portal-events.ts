/**
 * The events the portal's elements dispatch (each bubbles and crosses
 * shadow roots); `<siprelay-portal>` turns them into calls of the portal
 * client. Elements render and dispatch; they never call the relay.
 */

const init = { bubbles: true, composed: true } as const;

/** Sign in with these credentials (`<siprelay-sign-in>`). */
export class SignInEvent extends Event {
  static readonly type = 'siprelay-sign-in';
  constructor(
    readonly username: string,
    readonly password: string,
  ) {
    super(SignInEvent.type, init);
  }
}

/** Sign out (`<siprelay-portal>` header). */
export class SignOutEvent extends Event {
  static readonly type = 'siprelay-sign-out';
  constructor() {
    super(SignOutEvent.type, init);
  }
}

/** Open a service (`<siprelay-service-catalogue>`, a failed card's "Try again"). */
export class OpenServiceEvent extends Event {
  static readonly type = 'siprelay-open-service';
  constructor(
    readonly service: string,
    readonly details: Readonly<Record<string, unknown>> | undefined,
    readonly compare: boolean,
    /** `performance.now()` of the click. */
    readonly clickedAt: number,
  ) {
    super(OpenServiceEvent.type, init);
  }
}

/** Hang up a session (`<siprelay-session-pane>`). */
export class HangUpEvent extends Event {
  static readonly type = 'siprelay-hang-up';
  constructor(readonly key: string) {
    super(HangUpEvent.type, init);
  }
}

/** Change a session's details in place (`<siprelay-session-pane>`). */
export class ChangeServiceEvent extends Event {
  static readonly type = 'siprelay-change-service';
  constructor(
    readonly key: string,
    readonly details: Readonly<Record<string, unknown>>,
    readonly method: 'INVITE' | 'UPDATE',
  ) {
    super(ChangeServiceEvent.type, init);
  }
}

/** Move from a session to another service (`<siprelay-session-pane>`). */
export class TransferEvent extends Event {
  static readonly type = 'siprelay-transfer';
  constructor(
    readonly key: string,
    readonly service: string,
    readonly details: Readonly<Record<string, unknown>> | undefined,
    readonly keepOpen: boolean,
  ) {
    super(TransferEvent.type, init);
  }
}

/** Remove an ended pane or a failed card from the board. */
export class DismissEvent extends Event {
  static readonly type = 'siprelay-dismiss';
  constructor(readonly key: string) {
    super(DismissEvent.type, init);
  }
}

/** Cancel a service still being opened (`<siprelay-opening-card>`). */
export class CancelOpeningEvent extends Event {
  static readonly type = 'siprelay-cancel-opening';
  constructor(readonly key: string) {
    super(CancelOpeningEvent.type, init);
  }
}

/** Reload the catalogue after it failed to load. */
export class ReloadCatalogueEvent extends Event {
  static readonly type = 'siprelay-reload-catalogue';
  constructor() {
    super(ReloadCatalogueEvent.type, init);
  }
}

declare global {
  interface HTMLElementEventMap {
    'siprelay-sign-in': SignInEvent;
    'siprelay-sign-out': SignOutEvent;
    'siprelay-open-service': OpenServiceEvent;
    'siprelay-hang-up': HangUpEvent;
    'siprelay-change-service': ChangeServiceEvent;
    'siprelay-transfer': TransferEvent;
    'siprelay-dismiss': DismissEvent;
    'siprelay-cancel-opening': CancelOpeningEvent;
    'siprelay-reload-catalogue': ReloadCatalogueEvent;
  }
}
