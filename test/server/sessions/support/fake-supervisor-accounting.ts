import type { ClosedSession } from '../../../../server/accounting/close-session.js';
import type { OpenSession } from '../../../../server/accounting/session-recovery.js';
import type { SupervisorAccounting } from '../../../../server/sessions/session-supervisor.js';
import type { SessionEndedBy } from '../../../../server/store/session-repository.js';

/** Accounting as the supervisor sees it, recording what it is asked. */
export class FakeSupervisorAccounting implements SupervisorAccounting {
  readonly ended: Array<{ sessionId: string; by: SessionEndedBy; reason?: string }> = [];
  readonly adopted: string[] = [];
  readonly interrupted: Array<{ sessionId: string; lastAliveAt: number }> = [];
  open: OpenSession[] = [];
  async end(sessionId: string, by: SessionEndedBy, reason?: string): Promise<ClosedSession | undefined> {
    this.ended.push({ sessionId, by, reason });
    return undefined;
  }
  async openSessions(): Promise<OpenSession[]> {
    return this.open;
  }
  adopt(session: OpenSession): void {
    this.adopted.push(session.record.id);
  }
  async interrupt(sessionId: string, lastAliveAt: number): Promise<undefined> {
    this.interrupted.push({ sessionId, lastAliveAt });
    return undefined;
  }
}
