import { describe, expect, it } from 'vitest';
import { TypedEmitter } from '../../../sip/util/typed-emitter.js';

interface DoorEvents {
  opened: { by: string };
  closed: void;
}

class Door extends TypedEmitter<DoorEvents> {
  open(by: string): boolean {
    return this.emit('opened', { by });
  }
  close(): boolean {
    return this.emit('closed', undefined);
  }
}

describe('TypedEmitter', () => {
  it('calls listeners in subscription order with the payload', () => {
    const door = new Door();
    const seen: string[] = [];
    door.on('opened', ({ by }) => seen.push('first ' + by));
    door.on('opened', ({ by }) => seen.push('second ' + by));
    expect(door.open('alice')).toBe(true);
    expect(seen).toEqual(['first alice', 'second alice']);
  });

  it('reports whether anyone listened, and counts listeners', () => {
    const door = new Door();
    expect(door.close()).toBe(false);
    const off = door.on('closed', () => {});
    expect(door.listenerCount('closed')).toBe(1);
    off();
    expect(door.listenerCount('closed')).toBe(0);
    expect(door.close()).toBe(false);
  });

  it('once listeners run a single time', () => {
    const door = new Door();
    let n = 0;
    door.once('closed', () => n++);
    door.close();
    door.close();
    expect(n).toBe(1);
    expect(door.listenerCount('closed')).toBe(0);
  });

  it('off removes the listener given', () => {
    const door = new Door();
    const seen: string[] = [];
    const a = () => seen.push('a');
    door.on('closed', a);
    door.on('closed', () => seen.push('b'));
    door.off('closed', a);
    door.close();
    expect(seen).toEqual(['b']);
  });

  it('a listener added during an emit does not hear that emit', () => {
    const door = new Door();
    const seen: string[] = [];
    door.on('closed', () => {
      seen.push('outer');
      door.on('closed', () => seen.push('inner'));
    });
    door.close();
    expect(seen).toEqual(['outer']);
    door.close();
    expect(seen).toEqual(['outer', 'outer', 'inner']);
  });

  it('a throwing listener does not stop the others and goes to the error handler', () => {
    const errors: string[] = [];
    class Reporting extends TypedEmitter<DoorEvents> {
      constructor() {
        super((e, type) => errors.push(type + ': ' + (e as Error).message));
      }
      fire(): void {
        this.emit('closed', undefined);
      }
    }
    const r = new Reporting();
    const seen: string[] = [];
    r.on('closed', () => {
      throw new Error('boom');
    });
    r.on('closed', () => seen.push('after'));
    expect(() => r.fire()).not.toThrow();
    expect(seen).toEqual(['after']);
    expect(errors).toEqual(['closed: boom']);
  });

  it('refuses a listener that is not a function', () => {
    const door = new Door();
    expect(() => door.on('closed', 42 as unknown as () => void)).toThrow(TypeError);
  });
});
