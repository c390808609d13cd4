//! The seed README's first example, with only its `use` lines changed.
use dhcp::get_dhcp_config;
use dhcp::MacAddress;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};

#[rustfmt::skip]
#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let client_mac = MacAddress::new([0x00, 0x11, 0x22, 0x33, 0x44, 0x55]);
    let bind_addr = SocketAddr::new(IpAddr::V4(Ipv4Addr::UNSPECIFIED), 68);
    
    // Simple high-level API
    let config = get_dhcp_config(bind_addr, client_mac, Some("my-client".to_string())).await?;
    
    println!("Obtained IP: {}", config.your_ip_address);
    println!("Gateway: {:?}", config.routers);
    println!("DNS: {:?}", config.domain_name_servers);
    
    Ok(())
}
