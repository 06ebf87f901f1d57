import { describe, expect, it } from 'vitest';
import { isLoopback, parseGraphRoot } from '../../src/graph/graph-root.js';

describe('--graph-url', () => {
  it('takes Microsoft Graph\'s clouds and loopback emulators, as roots', () => {
    expect(parseGraphRoot('https://graph.microsoft.com')).toBe('https://graph.microsoft.com');
    expect(parseGraphRoot('https://graph.microsoft.com/')).toBe('https://graph.microsoft.com');
    expect(parseGraphRoot('https://graph.microsoft.us')).toBe('https://graph.microsoft.us');
    expect(parseGraphRoot('https://dod-graph.microsoft.us')).toBe('https://dod-graph.microsoft.us');
    expect(parseGraphRoot('https://microsoftgraph.chinacloudapi.cn')).toBe('https://microsoftgraph.chinacloudapi.cn');
    expect(parseGraphRoot('http://127.0.0.1:5580')).toBe('http://127.0.0.1:5580');
    expect(parseGraphRoot('http://localhost:8080/')).toBe('http://localhost:8080');
  });

  it('says what is wrong with a URL without a scheme, with a version, or with a path', () => {
    expect(() => parseGraphRoot('127.0.0.1:5580')).toThrow(/give a URL with its scheme/);
    expect(() => parseGraphRoot('graph.microsoft.com')).toThrow(/give a URL with its scheme/);
    expect(() => parseGraphRoot('https://graph.microsoft.com/v1.0')).toThrow(/without a version \(https:\/\/graph\.microsoft\.com\)/);
    expect(() => parseGraphRoot('http://127.0.0.1:5580/beta/')).toThrow(/without a version/);
    expect(() => parseGraphRoot('https://graph.microsoft.com/foo')).toThrow(/give only the Graph root/);
  });

  it('never sends a token to another host unless the admin allows it, nor over plain http', () => {
    expect(() => parseGraphRoot('https://graph.example.com')).toThrow(/not a Microsoft Graph host .* --allow-graph-host graph\.example\.com/);
    expect(parseGraphRoot('https://graph.example.com', ['GRAPH.EXAMPLE.COM'])).toBe('https://graph.example.com');
    expect(() => parseGraphRoot('http://graph.microsoft.com')).toThrow(/must be reached over https/);
    expect(() => parseGraphRoot('http://127.0.0.1.example.com')).toThrow(/https/);
  });

  it('treats only loopback hosts as the emulator', () => {
    expect(isLoopback('http://127.0.0.1:5580')).toBe(true);
    expect(isLoopback('http://127.1.2.3')).toBe(true);
    expect(isLoopback('http://[::1]:80')).toBe(true);
    expect(isLoopback('http://127.0.0.1.example.com')).toBe(false);
    expect(isLoopback('https://graph.microsoft.com')).toBe(false);
  });
});
