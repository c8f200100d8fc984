/**
 * Response headers that tell who served a request. The services set them, the driver records them
 * into `requests.ndjson` (`service`, `instance`) and analysis attributes each request with them, so the
 * names are one contract of all three.
 */
export const SERVICE_HEADER = 'x-spillover-service';
export const INSTANCE_HEADER = 'x-spillover-instance';
