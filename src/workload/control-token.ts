/**
 * The fault-control endpoint answers only requests carrying the run's token in this header: the
 * harness hands the token to the service in its environment (SPILLOVER_CONTROL_TOKEN, readable only by
 * this user, unlike the command line) and sends it with every fault. Anyone else on the machine who can
 * reach the loopback address gets 403. A file of its own so the runner need not load the service.
 */
export const CONTROL_TOKEN_HEADER = 'x-spillover-control-token';
export const CONTROL_TOKEN_ENV = 'SPILLOVER_CONTROL_TOKEN';
