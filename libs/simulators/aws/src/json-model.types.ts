/** The subset of a botocore model (service-2.json) the awsJson1_1 simulator reads. */
export interface ShapeRef {
  shape: string;
  locationName?: string;
  deprecated?: boolean;
}

export interface JsonShape {
  type: 'structure' | 'list' | 'map' | 'string' | 'integer' | 'long' | 'boolean' | 'timestamp' | 'document' | 'blob' | 'double' | 'float';
  members?: Record<string, ShapeRef>;
  member?: ShapeRef;
  key?: ShapeRef;
  value?: ShapeRef;
  required?: string[];
  min?: number;
  max?: number;
  pattern?: string;
  enum?: string[];
  union?: boolean;
  /** An open JSON value (smithy `document`). */
  document?: boolean;
  exception?: boolean;
  fault?: boolean;
  sensitive?: boolean;
  deprecated?: boolean;
  [other: string]: unknown;
}

export interface JsonOperation {
  input?: string;
  output?: string;
  errors: string[];
  paginator?: { input_token: string; output_token: string; limit_key?: string; result_key: string };
}

export interface JsonServiceModel {
  apiVersion: string;
  targetPrefix: string;
  signingName: string;
  operations: Record<string, JsonOperation>;
  shapes: Record<string, JsonShape>;
}
