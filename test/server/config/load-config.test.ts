import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../../../server/config/config-error.js';
import { demoConfigFile, loadConfig, type LoadConfigOptions } from '../../../server/config/load-config.js';

const dir = mkdtempSync(join(tmpdir(), 'siprelay-config-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let fileCount = 0;

/** Writes YAML to a temp file named `relay.yaml` in a fresh folder and returns its path. */
function yamlFile(text: string): string {
  const sub = join(dir, String(fileCount++));
  const path = join(sub, 'relay.yaml');
  mkdirSync(sub);
  writeFileSync(path, text);
  return path;
}

function configError(options: LoadConfigOptions): ConfigError {
  try {
    loadConfig(options);
  } catch (e) {
    if (e instanceof ConfigError) return e;
    throw e;
  }
  throw new Error('loadConfig accepted the configuration');
}

/** The message for a file holding `text`, with the temp path shortened to relay.yaml. */
function fileErrors(text: string): string[] {
  const file = yamlFile(text);
  return configError({ file }).message.replaceAll(file, 'relay.yaml').split('\n');
}

describe('loadConfig', () => {
  describe('defaults (design brief "Defaults")', () => {
    const config = loadConfig();

    it('serves the domain portal.test', () => {
      expect(config.domains).toEqual(['portal.test']);
    });

    it('listens for SIP on UDP and TCP 127.0.0.1:5060 and on WebSocket at /sip of the HTTP server', () => {
      expect(config.listeners).toEqual([
        { transport: 'udp', host: '127.0.0.1', port: 5060 },
        { transport: 'tcp', host: '127.0.0.1', port: 5060 },
        { transport: 'ws', path: '/sip' },
      ]);
    });

    it('runs HTTP on 127.0.0.1:8080 and keeps data in ./data/siprelay.sqlite', () => {
      expect(config.http).toEqual({ host: '127.0.0.1', port: 8080 });
      expect(config.database).toEqual({ url: 'sqlite:./data/siprelay.sqlite', poolSize: 10, busyTimeoutMs: 5000 });
    });

    it('routes by the Request-URI user and has no services', () => {
      expect(config.services).toEqual([]);
      expect(config.staticTargets).toEqual([]);
      expect(config.routing.rules).toEqual([{ name: 'service-from-request-uri', service: '${requestUri.user}', facts: {} }]);
    });

    it('challenges with MD5 first, then SHA-256, and throttles failures', () => {
      expect(config.auth).toEqual({
        algorithms: ['MD5', 'SHA-256'],
        repeatFirstChallenge: true,
        nonceLifetimeSeconds: 300,
        throttle: {
          windowSeconds: 900,
          perUserAndAddress: { slowAfter: 3, slowDelayMs: 1000, blockAfter: 10, blockSeconds: 300 },
          perAddress: { slowAfter: 20, slowDelayMs: 1000, blockAfter: 100, blockSeconds: 300 },
        },
      });
    });

    it('probes application servers every 30 s, every 5 s while down, and gives up on a probe after 5 s', () => {
      expect(config.directory).toEqual({ probeIntervalSeconds: 30, probeRetryIntervalSeconds: 5, probeTimeoutSeconds: 5 });
      expect(loadConfig({ env: { SIPRELAY_DIRECTORY__PROBE_TIMEOUT_SECONDS: '1' } }).directory.probeTimeoutSeconds).toBe(1);
      expect(configError({ flags: { set: ['directory.probeIntervalSeconds=0'] } }).message).toContain(
        'directory.probeIntervalSeconds: expected a positive integer',
      );
    });

    it('uses the RFC 3261 timers, no admin token, log level info, and is not the demo', () => {
      expect(config.timers).toEqual({ t1Ms: 500, t2Ms: 4000, t4Ms: 5000, timerCSeconds: 185, minSessionExpiresSeconds: 90 });
      expect(config.admin).toEqual({});
      expect(config.log.level).toBe('info');
      expect(config.demo).toBe(false);
    });

    it('is what config/relay.example.yaml spells out', () => {
      const example = join(demoConfigFile(), '..', 'relay.example.yaml');
      expect(loadConfig({ file: example })).toEqual(config);
    });
  });

  describe('the demo', () => {
    it('--demo loads config/demo.yaml: the four demo services', () => {
      const config = loadConfig({ flags: { demo: true } });
      expect(config.demo).toBe(true);
      expect(config.services.map((s) => s.name)).toEqual(['wine', 'beer', 'bookstore', 'lesson']);
      expect(config.services.find((s) => s.name === 'bookstore')).toMatchObject({ fork: 'race', allowNoCancel: true });
      expect(config.services.find((s) => s.name === 'lesson')?.tariff).toMatchObject({ currency: 'EUR' });
    });

    it('SIPRELAY_DEMO=true does the same', () => {
      expect(loadConfig({ env: { SIPRELAY_DEMO: 'true' } }).services).toHaveLength(4);
    });

    it('--demo with --config reads the given file and turns demo mode on', () => {
      const file = yamlFile('domains: [shop.example]\n');
      const config = loadConfig({ file, flags: { demo: true } });
      expect(config.domains).toEqual(['shop.example']);
      expect(config.demo).toBe(true);
    });
  });

  describe('precedence: file, then environment, then flags', () => {
    const file = yamlFile('http:\n  host: 0.0.0.0\n  port: 9000\nlog:\n  level: warn\n');

    it('the file overrides defaults', () => {
      expect(loadConfig({ file }).http).toEqual({ host: '0.0.0.0', port: 9000 });
    });

    it('an environment variable overrides the file, key by key', () => {
      const config = loadConfig({ file, env: { SIPRELAY_HTTP__PORT: '9001' } });
      expect(config.http).toEqual({ host: '0.0.0.0', port: 9001 });
      expect(config.log.level).toBe('warn');
    });

    it('a flag overrides the environment', () => {
      const config = loadConfig({ file, env: { SIPRELAY_HTTP__PORT: '9001' }, flags: { httpPort: '9002' } });
      expect(config.http.port).toBe(9002);
    });

    it('SIPRELAY_CONFIG names the file when none is given', () => {
      expect(loadConfig({ env: { SIPRELAY_CONFIG: file } }).http.port).toBe(9000);
    });

    it('reads every kind of environment value (numbers, booleans, lists, JSON) and ignores SIPRELAY_* variables of other tools', () => {
      const config = loadConfig({
        env: {
          SIPRELAY_AUTH__THROTTLE__PER_ADDRESS__BLOCK_AFTER: '50',
          SIPRELAY_DEMO: 'no',
          SIPRELAY_DOMAINS: 'A.example, b.example',
          SIPRELAY_LISTENERS: '[{"transport":"udp","port":5070}]',
          SIPRELAY_DATABASE__URL: 'postgres://relay@db/relay',
          SIPRELAY_TIMERS__TIMER_C_SECONDS: '200',
          SIPRELAY_LIMITS__MAX_SESSIONS_PER_USER: '5',
          SIPRELAY_EMPTY_IS_IGNORED_EVEN_IF_UNKNOWN: '',
          SIPRELAY_TEST_POSTGRES_URL: 'postgres://elsewhere/test',
          PATH: '/usr/bin',
        },
      });
      expect(config.auth.throttle.perAddress.blockAfter).toBe(50);
      expect(config.demo).toBe(false);
      expect(config.domains).toEqual(['a.example', 'b.example']);
      expect(config.listeners).toEqual([{ transport: 'udp', host: '127.0.0.1', port: 5070 }]);
      expect(config.database.url).toBe('postgres://relay@db/relay');
      expect(config.timers.timerCSeconds).toBe(200);
      expect(config.limits.maxSessionsPerUser).toBe(5);
      expect(loadConfig({ flags: { set: ['limits.maxSessionsPerUser=null'] } }).limits.maxSessionsPerUser).toBeNull();
    });

    it('named flags set their keys', () => {
      const config = loadConfig({
        flags: {
          database: 'sqlite::memory:',
          domains: ['a.example', 'b.example'],
          httpHost: '0.0.0.0',
          logLevel: 'debug',
          adminToken: 'x'.repeat(16),
        },
      });
      expect(config).toMatchObject({
        database: { url: 'sqlite::memory:' },
        domains: ['a.example', 'b.example'],
        http: { host: '0.0.0.0' },
        log: { level: 'debug' },
        admin: { token: 'x'.repeat(16) },
      });
    });

    it('--set reaches any key, inside lists too, keeping the other entries', () => {
      const config = loadConfig({ flags: { set: ['listeners[0].port=5070', 'timers.t1Ms=100', 'auth.algorithms=SHA-256'] } });
      expect(config.listeners[0]).toEqual({ transport: 'udp', host: '127.0.0.1', port: 5070 });
      expect(config.listeners).toHaveLength(3);
      expect(config.timers.t1Ms).toBe(100);
      expect(config.auth.algorithms).toEqual(['SHA-256']);
    });
  });

  describe('errors name the key path and where the value came from', () => {
    it('a port out of range in the file', () => {
      expect(fileErrors('listeners:\n  - transport: udp\n  - transport: tcp\n    port: 70000\n')).toEqual([
        'config error: listeners[1].port: expected an integer between 0 and 65535 (from file relay.yaml)',
      ]);
    });

    it('a value of the wrong type', () => {
      expect(fileErrors('http:\n  port: "8080"\n')).toEqual([
        'config error: http.port: expected an integer between 0 and 65535, got "8080" (from file relay.yaml)',
      ]);
      expect(fileErrors('http: 8080\n')).toEqual(['config error: http: expected a mapping, got number 8080 (from file relay.yaml)']);
      expect(fileErrors('demo: yes please\n')).toEqual([
        'config error: demo: expected true or false, got "yes please" (from file relay.yaml)',
      ]);
      expect(fileErrors('domains: portal.test\n')).toEqual([
        'config error: domains: expected a list of domains, got "portal.test" (from file relay.yaml)',
      ]);
    });

    it('a value not among the allowed ones', () => {
      expect(fileErrors('log:\n  level: loud\n')).toEqual([
        'config error: log.level: expected one of: fatal, error, warn, info, debug, trace, silent, got "loud" (from file relay.yaml)',
      ]);
      expect(fileErrors('listeners:\n  - transport: sctp\n')).toEqual([
        'config error: listeners[0].transport: expected one of: udp, tcp, tls, ws, wss, got "sctp" (from file relay.yaml)',
      ]);
      expect(fileErrors('services:\n  - name: wine\n    fork: serial\n')).toEqual([
        'config error: services[0].fork: expected one of: balance, race, all, got "serial" (from file relay.yaml)',
      ]);
    });

    it('a missing required key', () => {
      expect(fileErrors('listeners:\n  - transport: tls\n    key: k.pem\n')).toEqual([
        'config error: listeners[0].cert: is required (from file relay.yaml)',
      ]);
      expect(fileErrors('listeners:\n  - port: 5060\n')).toEqual([
        'config error: listeners[0].transport: is required (one of: udp, tcp, tls, ws, wss) (from file relay.yaml)',
      ]);
    });

    it('unknown keys, at any depth, with a suggestion', () => {
      expect(fileErrors('listener:\n  - transport: udp\n')).toEqual([
        'config error: listener: unknown key (did you mean "listeners"?) (from file relay.yaml)',
      ]);
      expect(fileErrors('http:\n  prot: 8080\n')).toEqual(['config error: http.prot: unknown key (did you mean "port"?) (from file relay.yaml)']);
      expect(fileErrors('listeners:\n  - transport: udp\n    hots: 0.0.0.0\n')).toEqual([
        'config error: listeners[0].hots: unknown key (did you mean "host"?) (from file relay.yaml)',
      ]);
      expect(fileErrors('auth:\n  throttle:\n    perAddress:\n      colour: red\n')).toEqual([
        'config error: auth.throttle.perAddress.colour: unknown key (from file relay.yaml)',
      ]);
    });

    it('every problem at once, one line each', () => {
      expect(fileErrors('http:\n  port: -1\nlog:\n  level: 3\nextra: 1\n')).toEqual([
        'config error: http.port: expected an integer between 0 and 65535 (from file relay.yaml)',
        'config error: log.level: expected one of: fatal, error, warn, info, debug, trace, silent, got number 3 (from file relay.yaml)',
        'config error: extra: unknown key (from file relay.yaml)',
      ]);
    });

    it('a bad database URL', () => {
      expect(fileErrors('database:\n  url: mysql://db/relay\n')).toEqual([
        'config error: database.url: database URL scheme "mysql:" is not supported; expected sqlite:<path> or postgres://… (from file relay.yaml)',
      ]);
    });

    it('references to services that are not defined', () => {
      expect(
        fileErrors('services:\n  - name: wine\nstaticTargets:\n  - service: wnie\n    uri: sip:127.0.0.1:5071\nrouting:\n  rules:\n    - service: beer\n'),
      ).toEqual([
        'config error: staticTargets[0].service: unknown service "wnie" (defined services: wine) (from file relay.yaml)',
        'config error: routing.rules[0].service: unknown service "beer" (defined services: wine) (from file relay.yaml)',
      ]);
    });

    it('a static target that is not a SIP URI, and a weight below 1', () => {
      expect(
        fileErrors('services:\n  - name: wine\nstaticTargets:\n  - service: wine\n    uri: http://shop\n    weight: 0\n'),
      ).toEqual([
        'config error: staticTargets[0].uri: expected a sip: or sips: URI (from file relay.yaml)',
        'config error: staticTargets[0].weight: expected a positive integer (from file relay.yaml)',
      ]);
    });

    it('duplicate names and clashing ports', () => {
      expect(fileErrors('services:\n  - name: wine\n  - name: wine\n')).toEqual([
        'config error: services[1].name: service "wine" is already defined at index 0 (from file relay.yaml)',
      ]);
      expect(
        fileErrors('listeners:\n  - { transport: tcp, port: 8080 }\n  - { transport: tls, port: 8080, host: 0.0.0.0, cert: c, key: k }\n'),
      ).toEqual([
        'config error: listeners[0].port: port 8080 on 127.0.0.1 is already used by http (from file relay.yaml)',
        'config error: listeners[1].port: port 8080 on 0.0.0.0 is already used by http (from file relay.yaml)',
        'config error: listeners[1].port: port 8080 on 0.0.0.0 is already used by listeners[0] (tcp) (from file relay.yaml)',
      ]);
    });

    it('settings that contradict each other', () => {
      expect(fileErrors('auth:\n  throttle:\n    perUserAndAddress:\n      slowAfter: 20\n      blockAfter: 5\n')).toEqual([
        'config error: auth.throttle.perUserAndAddress.slowAfter: slowAfter must not exceed blockAfter (from file relay.yaml)',
      ]);
      expect(fileErrors('timers:\n  t1Ms: 5000\n')).toEqual([
        'config error: timers.t1Ms: must not exceed timers.t2Ms (from file relay.yaml)',
      ]);
    });

    it('routing rules: bad regex, unknown template reference, a matcher with two kinds', () => {
      expect(
        fileErrors(
          [
            'routing:',
            '  rules:',
            '    - match:',
            "        requestUri: { user: { regex: '(' } }",
            "      service: '${reqUri.user}'",
            '    - match:',
            '        headers:',
            '          X-Shop: { equals: a, regex: b }',
            '      service: ${requestUri.user}',
            "      facts: { region: '${match.region}' }",
          ].join('\n'),
        ),
      ).toEqual([
        'config error: routing.rules[0].match.requestUri.user.regex: is not a valid regular expression (from file relay.yaml)',
        'config error: routing.rules[0].service: "${reqUri.user}" names nothing a rule can read; use requestUri.user|host, from.user|host, to.user|host, header.<Name>, body.<field.path> or match.<group> (from file relay.yaml)',
        'config error: routing.rules[1].match.headers.X-Shop: give exactly one of: equals, oneOf, regex, present (from file relay.yaml)',
        'config error: routing.rules[1].facts.region: "${match.region}" is not a named group of this rule\'s regex (from file relay.yaml)',
      ]);
    });

    it('values from the environment and from flags name their variable or flag', () => {
      expect(configError({ env: { SIPRELAY_HTTP__PORT: 'eighty' } }).message).toBe(
        'config error: http.port: expected an integer between 0 and 65535, got "eighty" (from environment variable SIPRELAY_HTTP__PORT)',
      );
      expect(configError({ env: { SIPRELAY_LISTENERS: '[{"transport":"udp"' } }).message).toMatch(
        /^config error: SIPRELAY_LISTENERS: expected JSON \(.*\) \(from environment variable SIPRELAY_LISTENERS\)$/,
      );
      expect(configError({ flags: { httpPort: '99999' } }).message).toBe(
        'config error: http.port: expected an integer between 0 and 65535 (from flag --http-port)',
      );
      expect(configError({ flags: { set: ['listeners[1].port=x'] } }).message).toBe(
        'config error: listeners[1].port: expected an integer between 0 and 65535, got "x" (from flag --set listeners[1].port=x)',
      );
    });

    it('unknown environment variables and --set keys are refused too', () => {
      expect(configError({ env: { SIPRELAY_HTTP__PROT: '80' } }).message).toBe(
        'config error: SIPRELAY_HTTP__PROT: is not a configuration variable (did you mean "SIPRELAY_HTTP__PORT"?) (environment)',
      );
      expect(configError({ env: { SIPRELAY_HTTP_PORT: '80' } }).message).toBe(
        'config error: SIPRELAY_HTTP_PORT: is not a configuration variable (did you mean "SIPRELAY_HTTP__PORT"?) (environment)',
      );
      expect(configError({ env: { SIPRELAY_AUTH__THROTTLE__COLOUR: 'red' } }).message).toBe(
        'config error: SIPRELAY_AUTH__THROTTLE__COLOUR: is not a configuration variable (environment)',
      );
      expect(configError({ flags: { set: ['timers.t9Ms=1'] } }).message).toBe(
        'config error: timers.t9Ms: is not a configuration key (from flag --set timers.t9Ms=1)',
      );
      expect(configError({ flags: { set: ['listeners[7].port=1'] } }).message).toBe(
        'config error: listeners[7].port: index 7 is past the end of listeners (3 entries) (from flag --set listeners[7].port=1)',
      );
      expect(configError({ flags: { set: ['no-equals-sign'] } }).message).toBe(
        'config error: --set: "no-equals-sign" is not <key.path>=<value> (flag)',
      );
    });

    it('a certificate file that cannot be read', () => {
      const file = yamlFile('listeners:\n  - { transport: tls, cert: /nonexistent/cert.pem, key: /nonexistent/key.pem }\n');
      const error = configError({ file });
      expect(error.path).toBe('listeners[0].cert');
      expect(error.message.replaceAll(file, 'relay.yaml').split('\n')).toEqual([
        'config error: listeners[0].cert: cannot read /nonexistent/cert.pem (from file relay.yaml)',
        'config error: listeners[0].key: cannot read /nonexistent/key.pem (from file relay.yaml)',
      ]);
      expect(loadConfig({ file, checkFiles: false }).listeners[0]).toMatchObject({ transport: 'tls', port: 5061 });
    });

    it('a file that is missing, not YAML, or not a mapping', () => {
      expect(configError({ file: join(dir, 'missing.yaml') })).toMatchObject({ code: 'CONFIG_ERR_FILE' });
      expect(configError({ file: join(dir, 'missing.yaml') }).message).toBe(
        `config error: ${join(dir, 'missing.yaml')}: cannot be read: no such file (configuration file)`,
      );
      const broken = configError({ file: yamlFile('http:\n  port: [8080\n') });
      expect(broken.code).toBe('CONFIG_ERR_SYNTAX');
      expect(broken.message).toMatch(/^config error: .*relay\.yaml:\d+:\d+: /);
      expect(configError({ file: yamlFile('- a\n- b\n') }).message).toMatch(/the top level must be a mapping/);
      expect(configError({ file: yamlFile('http: {}\nhttp: {}\n') }).code).toBe('CONFIG_ERR_SYNTAX');
    });

    it('an empty file means all defaults', () => {
      expect(loadConfig({ file: yamlFile('') })).toEqual(loadConfig());
    });

    it('carries a stable code and the first bad path', () => {
      const error = configError({ file: yamlFile('http:\n  port: x\n') });
      expect(error).toBeInstanceOf(ConfigError);
      expect(error.code).toBe('CONFIG_ERR_INVALID');
      expect(error.path).toBe('http.port');
      expect(error.issues[0]).toMatchObject({ path: 'http.port', source: expect.stringMatching(/^from file /) });
    });
  });
});
