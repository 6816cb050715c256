import { describe, expect, it } from 'vitest';
import { envName, upperSnake } from '../../../server/config/config-schema-walk.js';
import { CONFIG_ENV_VARIABLES } from '../../../server/config/load-config.js';

describe('configuration environment variables', () => {
  it('spell camelCase keys in UPPER_SNAKE and join levels with a double underscore', () => {
    expect(upperSnake('perUserAndAddress')).toBe('PER_USER_AND_ADDRESS');
    expect(upperSnake('t1Ms')).toBe('T1_MS');
    expect(upperSnake('timerCSeconds')).toBe('TIMER_C_SECONDS');
    expect(envName(['auth', 'throttle', 'perAddress', 'blockAfter'])).toBe('SIPRELAY_AUTH__THROTTLE__PER_ADDRESS__BLOCK_AFTER');
  });

  it('exist for every key outside lists, with the right kind of value', () => {
    const kinds = Object.fromEntries([...CONFIG_ENV_VARIABLES].map(([name, leaf]) => [name, leaf.kind]));
    expect(kinds).toMatchObject({
      SIPRELAY_DOMAINS: 'string-list',
      SIPRELAY_LISTENERS: 'json',
      SIPRELAY_HTTP__HOST: 'string',
      SIPRELAY_HTTP__PORT: 'number',
      SIPRELAY_DATABASE__URL: 'string',
      SIPRELAY_SERVICES: 'json',
      SIPRELAY_ROUTING__RULES: 'json',
      SIPRELAY_STATIC_TARGETS: 'json',
      SIPRELAY_AUTH__ALGORITHMS: 'string-list',
      SIPRELAY_AUTH__NONCE_SECRET: 'string',
      SIPRELAY_AUTH__THROTTLE__PER_USER_AND_ADDRESS__SLOW_AFTER: 'number',
      SIPRELAY_TIMERS__T1_MS: 'number',
      SIPRELAY_LIMITS__MAX_SESSIONS_PER_USER: 'number',
      SIPRELAY_ADMIN__TOKEN: 'string',
      SIPRELAY_LOG__LEVEL: 'string',
      SIPRELAY_DEMO: 'boolean',
    });
    expect(Object.keys(kinds)).not.toContain('SIPRELAY_LISTENERS__PORT');
  });
});
