/** The protocol layer: the wire format, the one handler, and the only writer to stdout. */
export * from './handler';
export * from './output';
export * from './wire';
