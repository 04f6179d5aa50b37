/** Type tags of the binary value encoding (binary-writer.ts / binary-reader.ts). Never renumber: they are on disk. */
export const T_NULL = 0;
export const T_FALSE = 1;
export const T_TRUE = 2;
/** zigzag varint of an int32 */
export const T_INT = 3;
/** float64, little-endian */
export const T_F64 = 4;
/** length (one byte up to int64, a varint beyond), minimal two's-complement little-endian bytes */
export const T_BIG = 5;
/** varint byte length, UTF-8 */
export const T_STR = 6;
/** varint count, values */
export const T_ARR = 7;
/** varint count, key/value pairs */
export const T_MAP = 8;
export const T_SET = 9;
/** varint count, then name/value pairs: a plain object once the shape table is full */
export const T_OBJ = 10;
/** varint count, names, then the values: defines the next shape number */
export const T_SHAPE_DEF = 11;
/** varint shape number, then the values in the shape's field order */
export const T_SHAPED = 12;
/** a string holding the JSON codec's text (objects with toJSON) */
export const T_JSON = 13;
