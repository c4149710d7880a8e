import type { Layer } from './packet.js';

/** A column of the ladder: a lab host (namespace labs) or one socket of the one host (localhost labs). */
export interface LaneInfo {
  key: string;
  title: string;
  subtitle: string;
  order: number;
}

/**
 * The one ordered stream of lab events every view reads (terminal --step, --json, the live page,
 * the report). `t` is ms since the epoch; `seq` the order of arrival.
 */
export type LabEvent =
  | { kind: 'run'; seq: number; t: number; phase: 'start'; lab: string; title: string; topic: string; capture: 'packets' | 'logs' }
  | { kind: 'run'; seq: number; t: number; phase: 'end'; verdict: string; passed: boolean }
  | { kind: 'lane'; seq: number; t: number; lane: LaneInfo }
  | {
      kind: 'packet';
      seq: number;
      t: number;
      id: number;
      segment: string;
      from: string;
      to: string[];
      broadcast: boolean;
      transport: string;
      app?: string;
      summary: string;
      src: string;
      dst: string;
      layers: Layer[];
      /** what the servers' logs said of it */
      notes: string[];
      /** 'capture' (a frame on a segment) or 'log' (localhost: a server's log record) */
      source: 'capture' | 'log';
    }
  | { kind: 'note'; seq: number; t: number; packet: number; text: string }
  | { kind: 'state'; seq: number; t: number; lane: string; host: string; local: string; remote: string; state: string }
  | { kind: 'mark'; seq: number; t: number; lane: string; label: string }
  | { kind: 'step'; seq: number; t: number; index: number; phase: 'start' | 'end'; name: string; host: string; command: string; show?: string; ok?: boolean; code?: number | null }
  | { kind: 'check'; seq: number; t: number; name: string; passed: boolean; detail: string; hint: string }
  | { kind: 'pause'; seq: number; t: number; paused: boolean; reason: string };

/** Distributes the (Omit<seq>) event union across its members. */
export type NewEvent = LabEvent extends infer E ? (E extends LabEvent ? Omit<E, 'seq'> : never) : never;

/** Appends events, numbers them, and tells subscribers; keeps them all for late subscribers and the report. */
export class EventLog {
  readonly events: LabEvent[] = [];
  private readonly subs = new Set<(e: LabEvent) => void>();

  emit(e: NewEvent): LabEvent {
    const ev = { ...e, seq: this.events.length } as LabEvent;
    this.events.push(ev);
    for (const s of this.subs) s(ev);
    return ev;
  }

  /** Calls fn for every event so far and every later one; returns the unsubscriber. */
  subscribe(fn: (e: LabEvent) => void, replay = true): () => void {
    if (replay) for (const e of this.events) fn(e);
    this.subs.add(fn);
    return () => this.subs.delete(fn);
  }

  packets(): Extract<LabEvent, { kind: 'packet' }>[] {
    return this.events.filter((e): e is Extract<LabEvent, { kind: 'packet' }> => e.kind === 'packet');
  }
}
