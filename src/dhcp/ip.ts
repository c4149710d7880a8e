// IPv4 math lives in core/address.ts (on ipaddr.js); the DHCP modules keep importing it from here.
export { ipToInt, intToIp, parseCidr, inCidr, type Cidr } from '../core/address.js';
