/** max |got[i] − want[i]| over max |want[i]|: an error relative to the reference's scale (NaN in
 *  either gives NaN, which no tolerance accepts). */
export function maxRelDiff(got: ArrayLike<number>, want: ArrayLike<number>): number {
  let diff = 0,
    scale = 0;
  for (let i = 0; i < want.length; i++) {
    diff = Math.max(diff, Math.abs(got[i] - want[i]));
    scale = Math.max(scale, Math.abs(want[i]));
  }
  return diff / scale;
}
