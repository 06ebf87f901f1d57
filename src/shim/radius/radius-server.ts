import { hash } from 'node:crypto';
import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';
import { isIP, type AddressInfo } from 'node:net';
import { endUserSource } from '../ip-address.js';
import type { ShimMetrics } from '../metrics.js';
import { RateLimiter } from '../rate-limiter.js';
import { SourceBudget, type SourceBudgetRules } from '../source-budget.js';
import { monotonicMs } from '../monotonic-clock.js';
import type { GateOutcome, GateRequest, VerifyGate } from '../verify-gate.js';
import type { VerifyReason } from '../verifier.js';
import { clientFor, type RadiusClient } from './clients-file.js';
import { ATTR, attribute, attributeCount, CODE, decodePacket, decodeUserPasswordText, encodeResponse, MalformedPacketError, verifyRequestMessageAuthenticator, type Attribute, type Packet } from './packet.js';
import { MAX_RULE_BYTES, type ReplyAttributes } from './reply-attributes.js';
import { RetransmissionCache } from './retransmission-cache.js';
import { normaliseUserName } from './user-realm.js';
import { userKey } from '../store-model.js';

export interface RadiusServerOptions {
  gate: VerifyGate;
  metrics: ShimMetrics;
  clients: readonly RadiusClient[];
  /** Budgets for clients whose line sets none (the serve flags). */
  defaults: { rateLimit: { perSecond: number; burst: number }; sourceBudget: SourceBudgetRules };
  replyAttributes: ReplyAttributes;
  /** The clock of its intervals (rate limits, source budgets, retransmission window): monotonic (monotonic-clock.ts). */
  now?: () => number;
  onNotice?: (message: string) => void;
}

/** Longest code taken from User-Password (as /v1/verify's `code`). */
const MAX_CODE_LENGTH = 16;
const MAX_USER_LENGTH = 256;
/** Sending addresses whose client is remembered (#clientOf). */
const MAX_ADDRESSES_KEPT = 4096;
/**
 * A request's Proxy-State attributes (copied into its answer) in bytes at most, so that an answer
 * with its reply attributes (MAX_RULE_BYTES) always fits RADIUS's 4,096 bytes; proxies add a few
 * dozen bytes each.
 */
const MAX_PROXY_STATE_BYTES = 4096 - 20 - 18 - 255 - MAX_RULE_BYTES - 256;

/** What the VPN shows the user (Reply-Message) from a client with `reasons=detailed`: the reason, never the code. */
const REPLY_TEXT: Record<VerifyReason, string> = {
  ok: 'Accepted',
  wrong_code: 'Wrong code',
  replayed: 'Code already used; wait for the next one',
  locked_out: 'Locked out after too many failures; try again later or call the help desk',
  unknown_user: 'Unknown user',
  no_token: 'No OATH token for this user',
  malformed: 'Malformed request',
};

/** An answer: its code and attributes (the Reply-Message among them). Never changed once made (the constant ones are shared). */
interface Reply {
  code: number;
  attributes: Attribute[];
}

const reply = (code: number, text: string): Reply => ({ code, attributes: [{ type: ATTR.replyMessage, value: Buffer.from(text) }] });

/** The answers to verdicts, made once: the accept, and a reject for each reason. */
const ACCEPTED = reply(CODE.accessAccept, REPLY_TEXT.ok);
const REJECTED = Object.fromEntries(Object.entries(REPLY_TEXT).map(([reason, text]) => [reason, reply(CODE.accessReject, text)])) as Record<VerifyReason, Reply>;
/**
 * By default the rejects that would tell whether a user exists are one answer: the VPN shows the
 * Reply-Message to anyone who reaches it, who could otherwise list the users (a black-box test: 195
 * "Unknown user" of 200 guesses at names, none counted). The audit log keeps the reason.
 */
const CONCEALED: Partial<Record<VerifyReason, Reply>> = {
  wrong_code: reply(CODE.accessReject, 'Wrong code or unknown user'),
  unknown_user: reply(CODE.accessReject, 'Wrong code or unknown user'),
  no_token: reply(CODE.accessReject, 'Wrong code or unknown user'),
};
const STATUS_UP = reply(CODE.accessAccept, 'mfa-migrate shim: up');
const UNAVAILABLE = reply(CODE.accessReject, 'Verification is unavailable; try again later');
const BUSY = reply(CODE.accessReject, 'Too many verifications of this user at once; try again');

/** A request to verify through the gate (what #prepare gives when the answer depends on the code). */
class Ask {
  constructor(
    readonly request: GateRequest,
    /** No Calling-Station-Id: the client's own budget is the source's (the refusal says so). */
    readonly clientBudget: boolean,
  ) {}
}

/**
 * Packets up to this many bytes are their own retransmission key (a latin1 string: one char a byte);
 * longer ones are keyed by their SHA-256, so that the 100,000 keys kept stay small. Hashing cost
 * about 1 µs a request more than taking the bytes (docs/benchmarks.md, session 20).
 */
const RAW_KEY_MAX_BYTES = 256;

/**
 * What tells a retransmission (RFC 5080 2.2.2): the sending address and port and the whole packet up
 * to its Length, not only its identifier and authenticator, so a client reusing an authenticator for
 * another request gets it verified. Octets past the Length are padding (RFC 2865 3): a retransmission
 * padded otherwise is still the same request. The two forms cannot meet: `r` and `h`.
 */
function retransmissionKey(msg: Buffer, rinfo: RemoteInfo): string {
  const length = msg.readUInt16BE(2);
  return length <= RAW_KEY_MAX_BYTES
    ? `${rinfo.address}|${rinfo.port}|r${msg.toString('latin1', 0, length)}`
    : `${rinfo.address}|${rinfo.port}|h${hash('sha256', msg.subarray(0, length), 'base64')}`;
}

/** Per client: its own rate limiter and failure budget, counting end users by Calling-Station-Id. */
interface ClientState {
  client: RadiusClient;
  /** How the gate and the audit log name the client: `radius:NAME`. */
  caller: string;
  limiter: RateLimiter;
  budget: SourceBudget;
  /** Told the admin once that this client sends no Calling-Station-Id. */
  warnedNoStation?: boolean;
}

/**
 * How long an answer is kept for retransmissions: twice the shortest VPN timeout docs/shim.md advises
 * (30 s), since a VPN retries within its whole timeout, and a retry verified again would answer the
 * user's right code `replayed`. Request Authenticators are random: a new request never meets an old entry.
 */
export const RETRANSMISSION_WINDOW_MS = 60_000;

/**
 * The RADIUS front end (RFC 2865) of `shim serve`: Access-Request with PAP, the password being the
 * code, verified through the same gate as POST /v1/verify (rules, state, lock-out, budgets, audit).
 * Every request must carry a valid Message-Authenticator (RFC 3579; BlastRADIUS, CVE-2024-3596):
 * without one, with a wrong one, from an unknown client, or malformed, it is dropped silently and
 * counted. Every answer carries one. Retransmissions get the cached answer (RFC 5080 2.2.2).
 * Status-Server (RFC 5997) is answered.
 */
export class RadiusServer {
  #socket: Socket | undefined;
  #up = false;
  readonly #cache: RetransmissionCache;
  #clients: ClientState[];
  #clientList: readonly RadiusClient[];
  #replyAttributes: ReplyAttributes;
  /**
   * The client of each sending address seen (null: none), so that the networks are matched once per
   * address, not per datagram (a BlockList check costs about as much as a hash). Bounded: forgotten
   * when full, since a spoofed flood can come from any number of addresses.
   */
  readonly #byAddress = new Map<string, ClientState | null>();
  readonly #pruner: NodeJS.Timeout;
  #closing = false;
  /** Requests being verified and answered; close() waits for them. */
  #inFlight = 0;
  #drained: (() => void) | undefined;

  constructor(private readonly opts: RadiusServerOptions) {
    const now = opts.now ?? monotonicMs;
    this.#cache = new RetransmissionCache(RETRANSMISSION_WINDOW_MS, now);
    this.#clientList = opts.clients;
    this.#replyAttributes = opts.replyAttributes;
    this.#clients = opts.clients.map((client) => this.#stateFor(client));
    this.#pruner = setInterval(() => {
      this.#cache.prune();
      for (const c of this.#clients) {
        c.limiter.prune();
        c.budget.prune();
      }
    }, 10_000);
    this.#pruner.unref();
  }

  #stateFor(client: RadiusClient): ClientState {
    const now = this.opts.now ?? monotonicMs;
    const { defaults } = this.opts;
    return {
      client,
      caller: `radius:${client.name}`,
      limiter: new RateLimiter(client.rateLimit ?? defaults.rateLimit.perSecond, client.rateBurst ?? defaults.rateLimit.burst, now),
      budget: new SourceBudget(client.sourceMaxFails !== undefined ? { ...defaults.sourceBudget, maxFails: client.sourceMaxFails } : defaults.sourceBudget, now),
    };
  }

  /**
   * New clients and reply attributes (SIGHUP: the files read again), taking effect with the next request.
   * A client of the same address and name keeps its sources' rate-limit buckets and failure counts, its
   * limits set to the new line's: a reload must not give a guesser a fresh budget.
   */
  reload(clients: readonly RadiusClient[], replyAttributes: ReplyAttributes): void {
    const old = this.#clients;
    this.#clients = clients.map((client) => {
      const kept = old.find((c) => c.client.network === client.network && c.client.name === client.name);
      if (!kept) return this.#stateFor(client);
      const fresh = this.#stateFor(client);
      kept.limiter.perSecond = fresh.limiter.perSecond;
      kept.limiter.burst = fresh.limiter.burst;
      kept.budget.rules = fresh.budget.rules;
      return { ...kept, client };
    });
    this.#clientList = clients;
    this.#replyAttributes = replyAttributes;
    this.#byAddress.clear();
  }

  /** Listening and not failed (for /healthz). */
  get up(): boolean {
    return this.#up;
  }

  listen(port: number, host: string): Promise<AddressInfo> {
    const socket = createSocket({ type: isIP(host) === 6 ? 'udp6' : 'udp4', reuseAddr: false });
    this.#socket = socket;
    return new Promise((resolve, reject) => {
      socket.once('error', reject);
      socket.bind(port, host, () => {
        socket.off('error', reject);
        socket.on('error', (err) => {
          this.#up = false;
          this.opts.onNotice?.(`RADIUS socket failed: ${err.message}`);
        });
        socket.on('message', (msg, rinfo) => this.#receive(msg, rinfo));
        this.#up = true;
        resolve(socket.address());
      });
    });
  }

  #drop(reason: string): void {
    this.opts.metrics.radiusDropped(reason);
  }

  #clientOf(address: string): ClientState | null {
    let state = this.#byAddress.get(address);
    if (state === undefined) {
      const client = clientFor(this.#clientList, address);
      state = (client && this.#clients.find((c) => c.client === client)) ?? null;
      if (this.#byAddress.size >= MAX_ADDRESSES_KEPT) this.#byAddress.clear();
      this.#byAddress.set(address, state);
    }
    return state;
  }

  #receive(msg: Buffer, rinfo: RemoteInfo): void {
    // Stopping: what arrives now goes unanswered (the VPN retries it, or asks its other server).
    if (this.#closing) return;
    const state = this.#clientOf(rinfo.address);
    if (!state) return this.#drop('unknown_client');
    let packet: Packet;
    try {
      packet = decodePacket(msg);
    } catch (err) {
      if (err instanceof MalformedPacketError) return this.#drop('malformed');
      throw err;
    }
    if (packet.code !== CODE.accessRequest && packet.code !== CODE.statusServer) return this.#drop('unsupported_code');
    const secret = state.client.secret;
    if (attribute(packet, ATTR.messageAuthenticator) === undefined) return this.#drop('no_message_authenticator');
    if (!verifyRequestMessageAuthenticator(msg, packet, secret)) return this.#drop('bad_message_authenticator');
    let proxyState = 0;
    for (const a of packet.attributes) if (a.type === ATTR.proxyState) proxyState += 2 + a.value.length;
    if (proxyState > MAX_PROXY_STATE_BYTES) return this.#drop('malformed');
    // RFC 5997 3: Status-Server is how a VPN picks a live server. A shim that cannot verify (state or
    // audit log down) stays silent, so the VPN fails over, instead of saying up and then rejecting everyone.
    if (packet.code === CODE.statusServer && !this.opts.gate.up) return this.#drop('unavailable');
    // A retransmission is the same packet again, from the same address and port (retransmissionKey).
    const key = retransmissionKey(msg, rinfo);
    const cached = this.#cache.lookup(key);
    if (cached !== undefined) {
      this.opts.metrics.radiusRetransmission();
      // Still being answered: the answer will go out once; a retransmission is not verified twice.
      if (cached !== null) this.#send(cached, rinfo, this.#sent);
      return;
    }
    this.#cache.begin(key);
    this.opts.metrics.radiusRequest(packet.code === CODE.statusServer ? 'status_server' : 'access_request');
    this.#inFlight++;
    void this.#handle(packet, state, key, rinfo);
  }

  /**
   * Verifies and answers one request; the request is in flight (close() waits) until its answer is
   * handed to the system. One async step per request: the reply is decided synchronously except
   * for the gate's verification (#prepare, #render).
   */
  async #handle(packet: Packet, state: ClientState, key: string, rinfo: RemoteInfo): Promise<void> {
    const started = performance.now();
    let response: Buffer;
    let code: number;
    try {
      const prepared = this.#prepare(packet, state);
      const reply = prepared instanceof Ask ? this.#render(await this.opts.gate.verify(prepared.request), state, prepared.clientBudget) : prepared;
      code = reply.code;
      response = encodeResponse(code, packet, reply.attributes, state.client.secret);
      this.#cache.finish(key, response);
      this.#send(response, rinfo, this.#answered);
    } catch (err) {
      // Whatever failed (the state, or making the answer), no answer goes out and a retransmission is asked afresh.
      this.#cache.forget(key);
      this.opts.onNotice?.(`RADIUS: ${(err as Error).message}`);
      this.#answered();
      return;
    }
    // The histogram times Access-Requests (a verification); a Status-Server answer is only counted.
    const seconds = packet.code === CODE.statusServer ? null : (performance.now() - started) / 1000;
    this.opts.metrics.radiusResponse(code === CODE.accessAccept ? 'access_accept' : 'access_reject', seconds);
  }

  /** The answer to a request that needs no verification (Status-Server, malformed, rate-limited), or what to ask the gate. */
  #prepare(packet: Packet, state: ClientState): Reply | Ask {
    if (packet.code === CODE.statusServer) return STATUS_UP;
    // The end user's address (Calling-Station-Id) counts, where the client sends it; else the client itself.
    // An IP address in it counts as client_ip does (one text per address, IPv6 by its /64); other forms (a MAC address, a phone number) as sent.
    // Trimmed: one address written with spaces around it is the same end user, not a fresh budget.
    const sent = attribute(packet, ATTR.callingStationId)?.toString('utf8').trim();
    const station = sent !== undefined ? (endUserSource(sent) ?? sent) : undefined;
    const caller = state.caller;
    const source = station !== undefined && station !== '' ? station : caller;
    if (source === caller && !state.warnedNoStation) {
      state.warnedNoStation = true;
      this.opts.onNotice?.(`RADIUS client ${state.client.name} sends no Calling-Station-Id: its end users share one failure budget and rate limit (make the VPN send the user's address)`);
    }
    // Before anything else is read, as over HTTP: a malformed request (a VPN sending CHAP, or password
    // and code together) is audited, so it counts too (a black-box test saw 8 in a row past a burst of 3).
    const wait = state.limiter.take(source);
    if (wait > 0) {
      this.opts.metrics.rateLimited();
      return reply(CODE.accessReject, `Too many requests; try again in ${wait} s`);
    }
    const userName = attribute(packet, ATTR.userName);
    const hidden = attribute(packet, ATTR.userPassword);
    const named = userName !== undefined && userName.length <= MAX_USER_LENGTH ? userName.toString('utf8') : undefined;
    // Audited like every verification (a VPN set up for CHAP shows there), the code never.
    const malformed = (text: string, detail: string): Reply => {
      this.opts.gate.malformed({ client: caller, ...(source !== caller ? { source } : {}), ...(named !== undefined ? { user: named } : {}), detail });
      return reply(CODE.accessReject, text);
    };
    // RFC 2865 5.44: at most one of each in an Access-Request (two names would be verified as the first).
    if (attributeCount(packet, ATTR.userName) > 1 || attributeCount(packet, ATTR.userPassword) > 1) return malformed(REPLY_TEXT.malformed, 'a repeated User-Name or User-Password');
    // Likewise one end user's address: with two, which one the budgets count would be the sender's choice.
    if (attributeCount(packet, ATTR.callingStationId) > 1) return malformed(REPLY_TEXT.malformed, 'a repeated Calling-Station-Id (RFC 2865 5.44: at most one)');
    if (hidden && attribute(packet, ATTR.chapPassword)) return malformed(REPLY_TEXT.malformed, 'both User-Password and CHAP-Password (RFC 2865 4.1)');
    if (!userName || !hidden) {
      if (attribute(packet, ATTR.chapPassword)) return malformed('Only PAP is supported', 'CHAP-Password: only PAP is supported');
      if (attribute(packet, ATTR.eapMessage)) return malformed('Only PAP is supported', 'EAP-Message: only PAP is supported');
      return malformed(REPLY_TEXT.malformed, userName ? 'no User-Password' : 'no User-Name');
    }
    const code = decodeUserPasswordText(hidden, state.client.secret, packet.authenticator);
    const user = named ?? userName.toString('utf8');
    if (user.trim() === '' || user.length > MAX_USER_LENGTH) return malformed(REPLY_TEXT.malformed, `a User-Name of ${user.length} characters`);
    if (code === undefined) return malformed(REPLY_TEXT.malformed, 'a User-Password not hidden as PAP hides it');
    if (code === '' || code.length > MAX_CODE_LENGTH) return malformed(REPLY_TEXT.malformed, `a password that is not a code (empty, or longer than ${MAX_CODE_LENGTH} characters)`);
    // The name as the client's strip-realm= and default-domain= have it looked up; the audit log keeps both.
    // The verifier keys everything on this name, an absent user's lock-out too (one name, one lock-out, as for a known user).
    const looked = state.client.realm ? normaliseUserName(user, state.client.realm) : user;
    const sentAs = looked !== user && userKey(looked) !== userKey(user) ? { sentAs: user } : {};
    return new Ask({ user: looked, ...sentAs, code, who: { source, authenticated: true }, client: caller, budget: state.budget, conceal: state.client.detailedReasons !== true }, source === caller);
  }

  /** The answer to the gate's outcome. */
  #render(outcome: GateOutcome, state: ClientState, clientBudget: boolean): Reply {
    if (outcome.kind === 'unavailable') return UNAVAILABLE;
    if (outcome.kind === 'busy') return BUSY;
    if (outcome.kind === 'refused') {
      // Without a Calling-Station-Id every user of the VPN shares the budget: "this address" would point at the user's own.
      const spent = clientBudget ? 'from this RADIUS client (it sends no Calling-Station-Id)' : 'from this address';
      return reply(CODE.accessReject, `Too many failures ${spent}; try again in ${outcome.retryAfterSeconds} s`);
    }
    const v = outcome.verdict;
    if (v.result === 'accept') {
      const granted = this.#replyAttributes.forUser(v.user!.key, v.user!.group);
      if (granted.length === 0) return ACCEPTED;
      // The admin's Reply-Message, where the rule gives one, is what the user sees: not beside "Accepted" (the VPN would show both).
      return granted.some((a) => a.type === ATTR.replyMessage) ? { code: CODE.accessAccept, attributes: granted } : { code: CODE.accessAccept, attributes: [...granted, ...ACCEPTED.attributes] };
    }
    if (state.client.detailedReasons === true) return REJECTED[v.reason];
    if (v.concealedLock !== undefined) return REJECTED.locked_out;
    return CONCEALED[v.reason] ?? REJECTED[v.reason];
  }

  /** A failed send (a full buffer, an unreachable route) is counted, not a socket 'error' that would mark the front end down for good. */
  readonly #sent = (err: Error | null): void => {
    if (err) this.opts.metrics.radiusSendFailed();
  };

  /** An answer handed to the system (or not sent): the request is no longer in flight. */
  readonly #answered = (err: Error | null = null): void => {
    this.#sent(err);
    if (--this.#inFlight === 0) this.#drained?.();
  };

  /**
   * Hands the datagram to the system; `done` runs once it is (close() waits for that: a send still
   * resolving its address would be lost), or at once when there is no socket. A send that throws
   * (the socket closed under it) throws to the caller, `done` not called.
   */
  #send(response: Buffer, rinfo: RemoteInfo, done: (err: Error | null) => void): void {
    const socket = this.#socket;
    if (!socket) return done(null);
    socket.send(response, rinfo.port, rinfo.address, done);
  }

  /**
   * Stops: new datagrams are no longer answered, the requests being verified are answered (within
   * `graceMs`: a verification held back by a source's failure budget waits a second or so), then
   * the socket closes.
   */
  async close(graceMs = 10_000): Promise<void> {
    this.#closing = true;
    if (this.#inFlight > 0) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, graceMs);
        this.#drained = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
    clearInterval(this.#pruner);
    this.#up = false;
    const socket = this.#socket;
    this.#socket = undefined;
    if (socket) await new Promise<void>((resolve) => socket.close(() => resolve()));
  }
}
