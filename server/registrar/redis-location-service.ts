import { Redis } from 'ioredis';
import { parseSipUriStrict } from '../../sip/grammar/uri.js';
import { systemClock, type Clock } from '../../sip/util/clock.js';
import { noopLogger, type SipLogger } from '../../sip/util/logger.js';
import { randomToken } from '../../sip/util/random.js';
import type { BindingChange, LocationStore } from './location-store.js';
import { compareBindings, type StoredBinding } from './stored-binding.js';

/** The Redis commands the location service uses. */
export type LocationRedis = Pick<Redis, 'get' | 'eval' | 'smembers' | 'del' | 'quit'>;

/** Options of {@link RedisLocationService}. Every limit has a default. */
export interface RedisLocationServiceOptions {
  /** A Redis URL (`redis://127.0.0.1:6379/0`), or a client the caller owns (then not closed by `close()`). */
  redis: string | LocationRedis;
  /**
   * This node's id, stored with every binding: a flow id names a
   * connection of one process, so only the node that holds it may use it
   * or declare it closed. Must differ between nodes. Default random per process.
   */
  nodeId?: string;
  /** Prefix of every key. Default `siprelay:`. */
  keyPrefix?: string;
  /**
   * Attempts of one update when other nodes keep changing the same AOR.
   * Each round one contender wins (updates from one node are queued), so
   * this bounds how many nodes may race on one AOR at the same instant. Default 16.
   */
  maxAttempts?: number;
  clock?: Clock;
  logger?: SipLogger;
}

/** A binding as stored: JSON with the Contact as text. */
interface BindingRecord {
  aor: string;
  contact: string;
  flowId?: string;
  expiresAt: number;
  instanceId?: string;
  regId?: number;
  q?: number;
  callId: string;
  cseq: number;
  contactParams: string;
  displayName?: string;
  flowBound: boolean;
  node: string;
  updatedAt: number;
}

/**
 * Compare-and-set of one AOR (KEYS[1]): writes ARGV[2] (or deletes the key
 * when it is empty) only if the key still holds ARGV[1] (empty: absent),
 * with the key expiring at ARGV[3]; then adds the AOR (ARGV[4]) to each
 * flow index in KEYS[2..], extending that index's expiry to ARGV[3] when
 * it is later. Returns 1 when written, 0 when another update came first.
 */
const CAS_SCRIPT = `
local cur = redis.call('GET', KEYS[1])
if (cur or '') ~= ARGV[1] then return 0 end
if ARGV[2] == '' then
  redis.call('DEL', KEYS[1])
else
  redis.call('SET', KEYS[1], ARGV[2], 'PXAT', ARGV[3])
end
for i = 2, #KEYS do
  redis.call('SADD', KEYS[i], ARGV[4])
  if redis.call('PEXPIRETIME', KEYS[i]) < tonumber(ARGV[3]) then
    redis.call('PEXPIREAT', KEYS[i], ARGV[3])
  end
end
return 1
`;

/**
 * The location service of a relay cluster, in Redis: what every node must
 * see at once (docs/architecture.md, "Cluster"). One key per AOR holds its
 * bindings as JSON and expires with the last of them (`SET … PXAT`); reads
 * filter bindings that expired before it. An update reads the AOR, runs the
 * registrar's change and writes it back with a compare-and-set script,
 * retrying when another node changed the AOR in between, so §10.3's
 * all-or-nothing holds across nodes.
 *
 * Flows belong to nodes: each binding records its node, and a per-node
 * index (`flow:<node>:<flow id>` → AORs, expiring with them) lets the node
 * whose connection closed find the bindings on it without a scan.
 * `flowClosed` touches only bindings of this node.
 *
 * Needs Redis 7 (PEXPIRETIME); keys of one update are not co-located, so
 * Redis Cluster is not supported (a primary with replicas is).
 */
export class RedisLocationService implements LocationStore {
  readonly nodeId: string;
  private readonly redis: LocationRedis;
  private readonly ownsClient: boolean;
  private readonly prefix: string;
  private readonly maxAttempts: number;
  private readonly clock: Clock;
  private readonly logger: SipLogger;
  /** The last queued update per AOR on this node. */
  private readonly queues = new Map<string, Promise<unknown>>();

  constructor(options: RedisLocationServiceOptions) {
    if (options === null || typeof options !== 'object') throw new TypeError('RedisLocationServiceOptions must be an object');
    if (typeof options.redis === 'string') {
      this.redis = new Redis(options.redis, { lazyConnect: false, maxRetriesPerRequest: 2 });
      this.ownsClient = true;
    } else if (options.redis && typeof options.redis.eval === 'function') {
      this.redis = options.redis;
      this.ownsClient = false;
    } else {
      throw new TypeError('RedisLocationServiceOptions.redis must be a Redis URL or client');
    }
    if (options.nodeId !== undefined && (typeof options.nodeId !== 'string' || !/^[A-Za-z0-9._-]{1,64}$/.test(options.nodeId))) {
      throw new TypeError('RedisLocationServiceOptions.nodeId must be 1 to 64 of A-Z a-z 0-9 . _ -');
    }
    const attempts = options.maxAttempts ?? 16;
    if (!Number.isSafeInteger(attempts) || attempts < 1) throw new TypeError('RedisLocationServiceOptions.maxAttempts must be a positive integer');
    this.nodeId = options.nodeId ?? 'node-' + randomToken(8);
    this.prefix = options.keyPrefix ?? 'siprelay:';
    this.maxAttempts = attempts;
    this.clock = options.clock ?? systemClock;
    this.logger = options.logger ?? noopLogger;
  }

  async lookup(aor: string): Promise<StoredBinding[]> {
    const raw = await this.redis.get(this.aorKey(aor));
    return this.decode(raw, this.clock.wallNow());
  }

  update<T>(aor: string, change: (current: readonly StoredBinding[], now: number) => BindingChange<T>): Promise<T> {
    // Updates of one AOR from this node run one after the other, so that
    // compare-and-set retries are left for races between nodes.
    const previous = this.queues.get(aor);
    const run = (previous ?? Promise.resolve()).then(
      () => this.updateOnce(aor, change),
      () => this.updateOnce(aor, change),
    );
    const tail = run.catch(() => undefined);
    this.queues.set(aor, tail);
    void tail.then(() => {
      if (this.queues.get(aor) === tail) this.queues.delete(aor);
    });
    return run;
  }

  private async updateOnce<T>(aor: string, change: (current: readonly StoredBinding[], now: number) => BindingChange<T>): Promise<T> {
    const key = this.aorKey(aor);
    for (let attempt = 0; attempt < this.maxAttempts; attempt++) {
      const raw = await this.redis.get(key);
      const now = this.clock.wallNow();
      const outcome = change(this.decode(raw, now), now);
      if (outcome.bindings === undefined) return outcome.result;
      const live = outcome.bindings.filter((b) => b.expiresAt > now);
      let expiresAt = 0;
      const flowKeys = new Set<string>();
      for (const b of live) {
        if (b.expiresAt > expiresAt) expiresAt = b.expiresAt;
        if (b.flowId !== undefined && b.node === this.nodeId) flowKeys.add(this.flowKey(b.flowId));
      }
      const next = live.length ? JSON.stringify(live.map(toRecord)) : '';
      const written = await this.redis.eval(CAS_SCRIPT, 1 + flowKeys.size, key, ...flowKeys, raw ?? '', next, String(Math.ceil(expiresAt)), aor);
      if (written === 1) return outcome.result;
    }
    throw new Error(`location update of ${aor} lost ${this.maxAttempts} races in a row`);
  }

  flowClosed(flowId: string): void {
    this.removeFlow(flowId).catch((e: unknown) => this.logger.error({ err: e, flowId }, 'location service could not drop the bindings of a closed flow'));
  }

  /** Like {@link flowClosed}, but resolves when the bindings are updated (tests, orderly shutdown). */
  async removeFlow(flowId: string): Promise<void> {
    const indexKey = this.flowKey(flowId);
    const aors = await this.redis.smembers(indexKey);
    await this.redis.del(indexKey);
    for (const aor of aors) {
      await this.update(aor, (current) => {
        let changed = false;
        const kept: StoredBinding[] = [];
        for (const b of current) {
          if (b.flowId !== flowId || b.node !== this.nodeId) kept.push(b);
          // RFC 7118 §5.2, RFC 5626 §5: nothing else reaches this contact.
          else if (!b.flowBound) kept.push({ ...b, flowId: undefined });
          if (b.flowId === flowId && b.node === this.nodeId) changed = true;
        }
        return changed ? { bindings: kept, result: undefined } : { result: undefined };
      });
    }
  }

  async close(): Promise<void> {
    if (this.ownsClient) await this.redis.quit();
  }

  private aorKey(aor: string): string {
    return this.prefix + 'loc:' + aor;
  }

  private flowKey(flowId: string): string {
    return this.prefix + 'flow:' + this.nodeId + ':' + flowId;
  }

  /** Live bindings from stored JSON; a record that does not decode is dropped, not fatal. */
  private decode(raw: string | null, now: number): StoredBinding[] {
    if (raw === null || raw === '') return [];
    let records: unknown;
    try {
      records = JSON.parse(raw);
    } catch {
      this.logger.warn({ raw: raw.slice(0, 200) }, 'location service found bindings it cannot read');
      return [];
    }
    if (!Array.isArray(records)) return [];
    const out: StoredBinding[] = [];
    for (const r of records as BindingRecord[]) {
      if (typeof r !== 'object' || r === null || typeof r.expiresAt !== 'number' || r.expiresAt <= now) continue;
      try {
        out.push({ ...r, flowId: r.flowId, contact: parseSipUriStrict(r.contact) });
      } catch {
        continue;
      }
    }
    return out.sort(compareBindings);
  }
}

function toRecord(b: StoredBinding): BindingRecord {
  return {
    aor: b.aor,
    contact: b.contact.toString(),
    flowId: b.flowId,
    expiresAt: b.expiresAt,
    instanceId: b.instanceId,
    regId: b.regId,
    q: b.q,
    callId: b.callId,
    cseq: b.cseq,
    contactParams: b.contactParams,
    displayName: b.displayName,
    flowBound: b.flowBound,
    node: b.node,
    updatedAt: b.updatedAt,
  };
}
